import {
  type ExecutionResult,
  getOperationAST,
  Kind,
  type OperationDefinitionNode,
  valueFromASTUntyped,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { AuditLog } from '../events/audit.js';
import type { Logger } from '../logger.js';
import type { Context } from './context.js';

/** The id an operation is about: an `id`/`webhookId` argument, else an id in its result. */
function resourceIdOf(
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  result: ExecutionResult,
): string | null {
  const field = operation.selectionSet.selections.find((s) => s.kind === Kind.FIELD);
  if (field?.kind !== Kind.FIELD) return null;
  for (const arg of field.arguments ?? []) {
    if (arg.name.value === 'id' || arg.name.value === 'webhookId') {
      const value = valueFromASTUntyped(arg.value, variables);
      if (typeof value === 'string') return value;
    }
  }
  const data = (result.data ?? {}) as Record<string, unknown>;
  const answer = data[field.alias?.value ?? field.name.value];
  const id = answer && typeof answer === 'object' ? (answer as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : null;
}

/**
 * Turns each executed mutation (and query, when asked for) into a Kpow audit event once its
 * outcome is known, failures included. Introspection is not audited.
 */
export function useAuditLog(audit: AuditLog, logger: Logger): Plugin<Context & { via?: 'api' | 'ui' }> {
  return {
    onExecute({ args }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (!operation || operation.operation === 'subscription') return;
      const fields = operation.selectionSet.selections
        .flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []))
        .filter((name) => !name.startsWith('__'));
      if (!fields.length) return;
      const context = args.contextValue as Context & { via?: 'api' | 'ui' };
      return {
        async onExecuteDone({ result }) {
          const r = result as ExecutionResult;
          const first = r.errors?.[0];
          try {
            await audit.record({
              principal: context.principal,
              kind: operation.operation === 'mutation' ? 'mutation' : 'query',
              via: context.via ?? 'api',
              fields,
              resourceId: resourceIdOf(
                operation,
                args.variableValues as Record<string, unknown> | undefined,
                r,
              ),
              error: first
                ? {
                    type: String(first.extensions?.code ?? 'INTERNAL_SERVER_ERROR'),
                    message: first.message,
                    extensions: first.extensions,
                  }
                : null,
            });
          } catch (error) {
            logger.error({ err: error }, 'could not record an audit event');
          }
        },
      };
    },
  };
}
