import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type ParseOptions,
  type SelectionSetNode,
  type Source,
  TokenKind,
} from 'graphql';
import { Parser } from 'graphql/language/parser.js';
import type { Plugin } from 'graphql-yoga';

/**
 * What one GraphQL document may ask for. The deepest query Hookline's own clients need (a
 * delivery's webhook's versions' change descriptions) is 8 levels. A page of 50 webhooks with
 * 5 deliveries each costs 1,800, one of 100 webhooks with four pages of 2 deliveries 10,000,
 * and 100 webhooks with 100 deliveries each 40,300 (refused). `repeats` and `selections` bound the work of
 * validation itself: graphql-js compares every pair of fields that share a response name
 * (OverlappingFieldsCanBeMergedRule), so 4,990 repeats of one field in a 25 KB document kept
 * the server's thread for 5.5 s before these limits.
 */
export const documentLimits = {
  depth: 12,
  aliases: 20,
  tokens: 5000,
  cost: 20_000,
  /** Fields of one response name in one selection set, fragments merged in. */
  repeats: 20,
  /** Selections written in one selection set, and definitions in one document, as parsed. */
  written: 100,
  definitions: 200,
  /** Distinct fragments spread into one selection set: validation compares them pairwise too. */
  spreads: 50,
  /** Field selections visited with every fragment spread expanded where it is used. */
  selections: 10_000,
} as const;

/** Bytes of a request body: a createWebhooks of 100 or a publishEvents of 1000 fits. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Relay connections without `first` or `last` give this many (the builder's default). */
const DEFAULT_PAGE = 20;

/**
 * A document refused for its size or shape. It is a validation error (HTTP 400 under
 * application/graphql-response+json): nothing of it ran.
 */
function refused(code: string, message: string, limit: number, found?: number) {
  return new GraphQLError(message, {
    extensions: {
      code,
      limit,
      ...(found === undefined ? {} : { found }),
      http: { status: 400, spec: true },
    },
  });
}

class Refusal extends Error {
  constructor(readonly error: GraphQLError) {
    super(error.message);
  }
}

const isIntrospection = (field: FieldNode) => field.name.value.startsWith('__');

/**
 * graphql-js's parser, stopped as soon as one selection set holds more than `written`
 * selections or the document more than `definitions` definitions: a document built to be
 * refused (4,990 repeats of one field) is then refused after reading a hundred of them, not
 * after building its whole AST. `Parser` is graphql-js's internal but versioned class; the
 * limits test fails if these overrides stop being called.
 */
class BoundedParser extends Parser {
  private definitions = 0;

  override parseDefinition() {
    if (++this.definitions > documentLimits.definitions) {
      throw new Refusal(
        refused(
          'SELECTION_LIMIT_EXCEEDED',
          `the document has more than ${documentLimits.definitions} operations and fragments`,
          documentLimits.definitions,
        ),
      );
    }
    return super.parseDefinition();
  }

  override parseSelectionSet(): SelectionSetNode {
    const start = this._lexer.token;
    let written = 0;
    const selections = this.many(
      TokenKind.BRACE_L,
      () => {
        if (++written > documentLimits.written) {
          throw new Refusal(
            refused(
              'SELECTION_LIMIT_EXCEEDED',
              `a selection set holds more than ${documentLimits.written} selections`,
              documentLimits.written,
            ),
          );
        }
        return this.parseSelection();
      },
      TokenKind.BRACE_R,
    );
    return this.node<SelectionSetNode>(start, { kind: Kind.SELECTION_SET, selections });
  }
}

/**
 * The document without locations (a third of the work and memory of a full parse), or the
 * first limit it passes. Syntax errors are left to the real parse, which reports them.
 */
function parseBounded(source: string | Source, options: ParseOptions | undefined) {
  try {
    return new BoundedParser(source, {
      ...options,
      maxTokens: documentLimits.tokens,
      noLocation: true,
    }).parseDocument();
  } catch (error) {
    if (error instanceof Refusal) return error.error;
    throw error;
  }
}

/**
 * One pass over an operation with its fragments merged into the selection sets they are spread
 * in, as graphql-js's validation sees them, that stops at the first limit passed. Its own work
 * is bounded by `selections`, so a document built to be expensive costs this walk at most that
 * many steps.
 */
function checkShape(operation: OperationDefinitionNode, fragments: Map<string, FragmentDefinitionNode>) {
  let visited = 0;
  let aliases = 0;
  const spreading = new Set<string>();

  const collect = (set: SelectionSetNode, into: Map<string, FieldNode[]>, spread: Set<string>) => {
    for (const selection of set.selections) {
      if (++visited > documentLimits.selections) {
        throw new Refusal(
          refused(
            'SELECTION_LIMIT_EXCEEDED',
            `the document selects more than ${documentLimits.selections} fields once its fragments are spread; ask for less in one request`,
            documentLimits.selections,
          ),
        );
      }
      if (selection.kind === Kind.FIELD) {
        const name = selection.alias?.value ?? selection.name.value;
        if (selection.alias && ++aliases > documentLimits.aliases) {
          throw new Refusal(
            refused(
              'ALIAS_LIMIT_EXCEEDED',
              `the document uses more than ${documentLimits.aliases} aliases`,
              documentLimits.aliases,
            ),
          );
        }
        const same = into.get(name);
        if (same) same.push(selection);
        else into.set(name, [selection]);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        collect(selection.selectionSet, into, spread);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        // Unknown fragments and cycles are validation's to report.
        if (!fragment || spreading.has(name)) continue;
        spread.add(name);
        if (spread.size > documentLimits.spreads) {
          throw new Refusal(
            refused(
              'SELECTION_LIMIT_EXCEEDED',
              `more than ${documentLimits.spreads} fragments are spread into one selection set`,
              documentLimits.spreads,
            ),
          );
        }
        spreading.add(name);
        collect(fragment.selectionSet, into, spread);
        spreading.delete(name);
      }
    }
  };

  const walk = (sets: SelectionSetNode[], depth: number, introspecting: boolean) => {
    const fields = new Map<string, FieldNode[]>();
    const spread = new Set<string>();
    for (const set of sets) collect(set, fields, spread);
    for (const [name, same] of fields) {
      if (same.length > documentLimits.repeats) {
        throw new Refusal(
          refused(
            'SELECTION_LIMIT_EXCEEDED',
            `"${name}" is selected ${same.length} times in one selection set (fragments included); at most ${documentLimits.repeats} are allowed`,
            documentLimits.repeats,
            same.length,
          ),
        );
      }
      const below = same.flatMap((field) => (field.selectionSet ? [field.selectionSet] : []));
      if (!below.length) continue;
      // Introspection is bounded by graphql-js's own MaxIntrospectionDepthRule, and GraphiQL's
      // schema query nests deeper than any query of data needs.
      const inIntrospection = introspecting || Boolean(same[0] && isIntrospection(same[0]));
      if (!inIntrospection && depth + 1 > documentLimits.depth) {
        throw new Refusal(
          refused(
            'DEPTH_LIMIT_EXCEEDED',
            `the document is nested deeper than ${documentLimits.depth} levels`,
            documentLimits.depth,
          ),
        );
      }
      walk(below, depth + 1, inIntrospection);
    }
  };

  walk([operation.selectionSet], 1, false);
}

function partsOf(document: DocumentNode) {
  const operations: OperationDefinitionNode[] = [];
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) operations.push(definition);
    else if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return { operations, fragments };
}

/** The first shape limit `document` passes, or undefined. */
export function shapeError(document: DocumentNode): GraphQLError | undefined {
  const { operations, fragments } = partsOf(document);
  try {
    for (const operation of operations) checkShape(operation, fragments);
  } catch (error) {
    if (error instanceof Refusal) return error.error;
    throw error;
  }
  return undefined;
}

/**
 * What a page size argument is worth, with variables as the client sent them: a list field
 * costs its children once per item it may return.
 */
function pageSize(
  field: FieldNode,
  definition: GraphQLField<unknown, unknown> | undefined,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): number {
  for (const argument of field.arguments ?? []) {
    const name = argument.name.value;
    if (name !== 'first' && name !== 'last') continue;
    const value = argument.value;
    if (value.kind === Kind.INT) return Number(value.value);
    if (value.kind === Kind.VARIABLE) {
      const given = variables[value.name.value];
      if (typeof given === 'number' && Number.isFinite(given)) return Math.max(given, 0);
      const declared = operation.variableDefinitions?.find((v) => v.variable.name.value === value.name.value);
      if (given === undefined && declared?.defaultValue?.kind === Kind.INT)
        return Number(declared.defaultValue.value);
    }
  }
  return definition?.args.some((a) => a.name === 'first') ? DEFAULT_PAGE : 1;
}

/**
 * The cost of an operation: about how many values its answer may hold. A field is 1; an object
 * is 1 plus its fields, times its page size (`first`/`last`, read from the variables too, and a
 * connection's default page when neither is given). Fragments count where they are spread.
 * Runs after validation, so the document is known to be sound and within the shape limits.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
): number {
  const { operations, fragments } = partsOf(document);
  const operation = operationName
    ? operations.find((o) => o.name?.value === operationName)
    : operations.length === 1
      ? operations[0]
      : undefined;
  if (!operation) return 0;
  const root =
    operation.operation === 'query'
      ? schema.getQueryType()
      : operation.operation === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();

  const costOf = (set: SelectionSetNode, parent: GraphQLNamedType | null | undefined): number => {
    let cost = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition && schema.getType(selection.typeCondition.name.value);
        cost += costOf(selection.selectionSet, condition ?? parent);
      } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        if (fragment)
          cost += costOf(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value));
      } else if (!isIntrospection(selection)) {
        const definition =
          parent && (isObjectType(parent) || isInterfaceType(parent))
            ? parent.getFields()[selection.name.value]
            : undefined;
        if (!selection.selectionSet) {
          cost += 1;
          continue;
        }
        const inner = costOf(selection.selectionSet, definition && getNamedType(definition.type));
        cost += (1 + inner) * pageSize(selection, definition, operation, variables);
      }
    }
    return cost;
  };
  return Math.round(costOf(operation.selectionSet, root));
}

function costError(cost: number) {
  return refused(
    'COST_LIMIT_EXCEEDED',
    `the query could return too much: its cost is ${cost}, at most ${documentLimits.cost} is allowed (ask for smaller pages: first/last)`,
    documentLimits.cost,
    cost,
  );
}

/**
 * The document limits as one plugin. Tokens are counted by the parser as it reads; the shape is
 * checked before graphql-js validates (so validation never sees a document built to make it
 * slow); the cost, which depends on the variables, before the operation runs.
 */
export function useDocumentLimits(): Plugin {
  const checked = new WeakSet<DocumentNode>();
  return {
    onParse({ parseFn, setParseFn }) {
      setParseFn((source, options) => {
        try {
          // The shape is checked on a parse without locations first: a third of the work and
          // of the memory (1 MB against 2.5 MB for 4,990 fields), so a document built to be
          // refused costs little. What passes is parsed again with locations, for the error
          // messages of validation and execution; cached, that is once per document text.
          const bare = parseBounded(source, options);
          const error = bare instanceof GraphQLError ? bare : shapeError(bare);
          if (error) throw error;
          const document = parseFn(source, { ...options, maxTokens: documentLimits.tokens });
          checked.add(document);
          return document;
        } catch (error) {
          if (error instanceof GraphQLError && error.extensions.limit !== undefined) throw error;
          if (error instanceof GraphQLError && /contains more th(?:an|at) \d+ tokens/.test(error.message)) {
            throw refused(
              'TOKEN_LIMIT_EXCEEDED',
              `the document has more than ${documentLimits.tokens} tokens`,
              documentLimits.tokens,
            );
          }
          // A document nested a few thousand levels deep overflows the parser's stack before any
          // depth can be counted.
          if (error instanceof RangeError) {
            throw refused(
              'DEPTH_LIMIT_EXCEEDED',
              `the document is nested deeper than ${documentLimits.depth} levels`,
              documentLimits.depth,
            );
          }
          throw error;
        }
      });
    },
    onValidate({ params, setResult }) {
      // Documents parsed elsewhere than through onParse (none today) are checked here.
      if (checked.has(params.documentAST)) return;
      const error = shapeError(params.documentAST);
      if (error) setResult([error]);
    },
    onExecute({ args, setResultAndStopExecution }) {
      const cost = operationCost(args.schema, args.document, args.operationName, args.variableValues ?? {});
      if (cost > documentLimits.cost) setResultAndStopExecution({ errors: [costError(cost)] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const cost = operationCost(args.schema, args.document, args.operationName, args.variableValues ?? {});
      if (cost > documentLimits.cost) setResultAndStopExecution({ errors: [costError(cost)] });
    },
  };
}
