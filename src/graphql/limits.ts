import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { Plugin } from 'graphql-yoga';

/**
 * What one GraphQL document may ask for (graphql-armor). The deepest query Hookline's own
 * clients need (a delivery's webhook's versions' change descriptions) is 8 levels; a page of
 * 100 webhooks with their nested deliveries costs about 3000.
 */
export const documentLimits = { depth: 12, aliases: 20, tokens: 5000, cost: 20_000 } as const;

/** Bytes of a request body: a createWebhooks of 100 or a publishEvents of 1000 fits. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export function useDocumentLimits(): Plugin[] {
  return [
    maxTokensPlugin({ n: documentLimits.tokens }),
    maxDepthPlugin({ n: documentLimits.depth, flattenFragments: true }),
    maxAliasesPlugin({ n: documentLimits.aliases }),
    costLimitPlugin({ maxCost: documentLimits.cost }),
  ] as Plugin[];
}
