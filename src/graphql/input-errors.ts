import {
  type ASTNode,
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  Kind,
  type ValueNode,
  visit,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

type Path = (string | number)[];

/**
 * Where each input value of a document sits: the argument it belongs to and the fields and
 * list positions below it, and the same for each variable at its first use.
 */
function locateInputs(document: DocumentNode) {
  const nodes = new Map<ASTNode, Path>();
  const variables = new Map<string, Path>();
  const walk = (value: ValueNode, path: Path) => {
    nodes.set(value, path);
    if (value.kind === Kind.VARIABLE) {
      if (!variables.has(value.name.value)) variables.set(value.name.value, path);
    } else if (value.kind === Kind.LIST) {
      value.values.forEach((item, i) => {
        walk(item, [...path, i]);
      });
    } else if (value.kind === Kind.OBJECT) {
      for (const field of value.fields) {
        nodes.set(field, [...path, field.name.value]);
        walk(field.value, [...path, field.name.value]);
      }
    }
  };
  visit(document, { Argument: (arg) => walk(arg.value, [arg.name.value]) });
  return { nodes, variables };
}

/**
 * The argument path as clients of this API name fields: relative to one input object
 * (`config.endpoint`), with the position in a list argument such as `inputs` apart.
 */
function describe(path: Path): { field: string; index?: number } {
  const [argument, ...rest] = path;
  if (argument === 'inputs' && typeof rest[0] === 'number') {
    const [index, ...inner] = rest as [number, ...Path];
    return { field: inner.length ? inner.join('.') : 'inputs', index };
  }
  if (argument === 'input' && rest.length) return { field: rest.join('.') };
  return { field: path.join('.') };
}

const VALUE_ERROR =
  /^(Expected value of type|Value .* does not exist in|\w+ cannot represent|Field ".*" of required type|Field ".*" is not defined by type|Enum ".*" cannot represent)/;
const MISSING_FIELD = /Field "(?:[\w]+\.)?(\w+)" of required type/;
const UNKNOWN_FIELD = /Field "(\w+)" is not defined by type/;
const MISSING_ARGUMENT = /^Field "\w+" argument "(\w+)" of type ".*" is required/;
const VARIABLE = /^Variable "\$(\w+)" (got invalid value|of (?:required|non-null) type)/;

const pathFromPrinted = (printed: string): Path =>
  printed
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .slice(1)
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));

function tailField(message: string): Path {
  const missing = MISSING_FIELD.exec(message) ?? UNKNOWN_FIELD.exec(message);
  return missing?.[1] ? [missing[1]] : [];
}

function withExtensions(
  error: GraphQLError,
  extensions: Record<string, unknown>,
  message = error.message,
): GraphQLError {
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...extensions, ...error.extensions },
  });
}

function classify(error: GraphQLError, document: DocumentNode | undefined): GraphQLError {
  if (error.extensions.code) return error;
  const located = document ? locateInputs(document) : undefined;
  const argument = MISSING_ARGUMENT.exec(error.message);
  if (argument?.[1]) return withExtensions(error, { code: 'BAD_USER_INPUT', ...describe([argument[1]]) });

  const variable = VARIABLE.exec(error.message);
  if (variable?.[1]) {
    const name = variable[1];
    const usage = located?.variables.get(name) ?? [name];
    if (variable[2] !== 'got invalid value') {
      return withExtensions(error, { code: 'BAD_USER_INPUT', ...describe(usage) });
    }
    // graphql-js quotes the whole variable value in its message, which may hold secrets the
    // client sent. The reason is the message of the original error, and the path is the
    // ` at "…"` just before it.
    const reason = error.originalError?.message ?? '';
    const head = error.message.slice(0, Math.max(0, error.message.length - reason.length - 2));
    const at = head.lastIndexOf(` at "${name}`);
    const printed = at >= 0 && head.endsWith('"') ? head.slice(at + 5, -1) : name;
    return withExtensions(
      error,
      { code: 'BAD_USER_INPUT', ...describe([...usage, ...pathFromPrinted(printed), ...tailField(reason)]) },
      `Variable "$${name}" has an invalid value at "${printed}": ${reason}`,
    );
  }

  if (VALUE_ERROR.test(error.message)) {
    const node = error.nodes?.[0];
    const path = node && located?.nodes.get(node);
    if (path) {
      const tail = MISSING_FIELD.test(error.message) ? tailField(error.message) : [];
      return withExtensions(error, { code: 'BAD_USER_INPUT', ...describe([...path, ...tail]) });
    }
  }
  return withExtensions(error, { code: 'GRAPHQL_VALIDATION_FAILED' });
}

/**
 * graphql-js reports a wrong input value (an unknown enum value, a string where a list of
 * strings belongs, a missing required field) without a code. This gives those errors
 * `BAD_USER_INPUT` and the `field` they concern, like the errors the resolvers raise.
 */
export function useInputErrorCodes(): Plugin {
  return {
    onValidate({ params }) {
      return ({ result, setResult }) => {
        if (result.length) setResult(result.map((e) => classify(e, params.documentAST)));
      };
    },
    onExecute({ args }) {
      return {
        onExecuteDone({ result, setResult }) {
          const r = result as ExecutionResult;
          if (r.errors?.length && r.data === undefined) {
            setResult({ ...r, errors: r.errors.map((e) => classify(e, args.document)) });
          }
        },
      };
    },
    // Whatever still has no code here was refused before execution: a validation failure.
    onResultProcess({ result }) {
      const r = result as ExecutionResult;
      if (Array.isArray(result) || !r || typeof r !== 'object' || !Array.isArray(r.errors)) return;
      for (const error of r.errors) {
        if (error instanceof GraphQLError && !error.extensions.code) {
          (error.extensions as Record<string, unknown>).code = 'GRAPHQL_VALIDATION_FAILED';
        }
      }
    },
  };
}
