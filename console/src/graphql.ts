import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.d.ts';

const tada = initGraphQLTada<{
  introspection: introspection;
  scalars: { DateTime: string; JSON: unknown };
}>();

/**
 * Every document this console built, in the order its modules made them: the build reads them
 * (bin/build-console.js) to write the manifest of trusted documents the server accepts by hash.
 */
export const documents: unknown[] = [];

/**
 * Typed operations: each `graphql(...)` document is checked against schema.graphql (through
 * graphql-env.d.ts, written by `npm run print-schema`), and its result and variables are typed.
 */
export const graphql: typeof tada = Object.assign(
  ((...args: Parameters<typeof tada>) => {
    const document = tada(...args);
    documents.push(document);
    return document;
  }) as typeof tada,
  { scalar: tada.scalar, persisted: tada.persisted },
);

/** A document kept as text (a graphql-ws subscription's), registered like those of `graphql`. */
export function operationText<T extends string>(text: T): T {
  documents.push(text);
  return text;
}

/**
 * Operation name to the SHA-256 of the document the console sends, made by the build
 * (bin/build-console.js); empty under Vite's dev server, where documents are sent as text.
 */
declare const __TRUSTED_DOCUMENTS__: Record<string, string>;
const trusted: Record<string, string> =
  typeof __TRUSTED_DOCUMENTS__ === 'object' ? __TRUSTED_DOCUMENTS__ : {};

/** The id to send instead of the text of operation `name`, if the build registered it. */
export const trustedHash = (name: string | undefined): string | undefined =>
  name === undefined ? undefined : trusted[name];

export type { FragmentOf, ResultOf, VariablesOf } from 'gql.tada';
