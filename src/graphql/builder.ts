import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import { decodeGlobalId, encodeGlobalId } from '../ids.js';
import type { Context } from './context.js';

export const builder = new SchemaBuilder<{
  Context: Context;
  Scalars: {
    JSON: { Input: unknown; Output: unknown };
    DateTime: { Input: Date; Output: Date | string };
    ID: { Input: string; Output: string };
  };
  // Lets a connection resolver hand back a lazy total alongside its page.
  Connection: { totalCount: () => Promise<number> };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
}>({
  plugins: [RelayPlugin],
  // Non-null unless a field says otherwise, so the schema states what is always there.
  defaultFieldNullability: false,
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeTypeOptions: {
      description: 'Anything with a global id, which `node(id)` fetches whatever its type.',
    },
    idFieldOptions: {
      description:
        'A global id: a readable type prefix and a UUID (`wh_…`, `dlv_…`, `evt_…`). Opaque; pass it back as it is.',
    },
    nodeQueryOptions: {
      description:
        'Any object by its global id; null when there is none or the caller may not see it. Every role may call it.',
      args: { id: { description: 'A global id, as an `id` field gave it.' } },
    },
    pageInfoTypeOptions: { description: 'Where a page of a connection sits in the whole list.' },
    hasNextPageFieldOptions: {
      description: 'Whether there are more items after this page (paging forward with `first`/`after`).',
    },
    hasPreviousPageFieldOptions: {
      description: 'Whether there are more items before this page (paging back with `last`/`before`).',
    },
    startCursorFieldOptions: {
      description: "The first edge's cursor, for `before`; null when the page is empty.",
    },
    endCursorFieldOptions: {
      description: "The last edge's cursor, for `after`; null when the page is empty.",
    },
    pageInfoFieldOptions: { description: 'Where this page sits, and the cursors to go on from it.' },
    edgesFieldOptions: { nullable: false, description: 'The items of this page, each with its cursor.' },
    cursorFieldOptions: {
      description: 'An opaque position: give it as `after` or `before` to page on from here.',
    },
    nodeFieldOptions: { nullable: false, description: 'The item itself.' },
    firstArgOptions: {
      description: 'Return the first n items (0 to 100; 20 when neither first nor last is given).',
    },
    afterArgOptions: {
      description: "Start after the item with this cursor (an edge's `cursor` or `pageInfo.endCursor`).",
    },
    lastArgOptions: { description: 'Return the last n items (0 to 100); not together with first.' },
    beforeArgOptions: {
      description: "End before the item with this cursor (an edge's `cursor` or `pageInfo.startCursor`).",
    },
    encodeGlobalID: (typename, id) => encodeGlobalId(typename, String(id)),
    decodeGlobalID: (globalId) => decodeGlobalId(globalId),
    nodesQueryOptions: false,
  },
});

builder.queryType({
  description: 'Reads. Every role may query; a USER sees only its own webhooks, their deliveries and events.',
});
builder.mutationType({
  description:
    'Changes. Each names the roles that may call it; a refused call answers FORBIDDEN and changes nothing.',
});
