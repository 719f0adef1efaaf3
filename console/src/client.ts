import { cacheExchange, Client, fetchExchange } from '@urql/core';
import { getToken } from './token';

/**
 * Queries and mutations over HTTP. The document cache refetches the queries that hold a type a
 * mutation returned (a webhook changed, the list shows it). `x-hookline-via: ui` marks the
 * audit records as coming from the console.
 */
export function createApiClient(): Client {
  return new Client({
    url: '/graphql',
    exchanges: [cacheExchange, fetchExchange],
    requestPolicy: 'cache-and-network',
    fetchOptions: () => ({
      headers: { authorization: `Bearer ${getToken() ?? ''}`, 'x-hookline-via': 'ui' },
    }),
  });
}
