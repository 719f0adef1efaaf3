import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { Principal, Role } from '../core/principal.js';

/**
 * Trusted documents: operations registered ahead of time and sent by their id instead of their
 * text. A manifest is a JSON object of id to document, the format of gql.tada's and GraphQL
 * Code Generator's persisted-documents files; an id is normally the SHA-256 of its document in
 * hex, written bare or as `sha256:<hex>`. The console's manifest is made when it is built
 * (console/dist/trusted-documents.json); HOOKLINE_TRUSTED_DOCUMENTS names more, for automation.
 * An operator may make them the only documents some roles run (HOOKLINE_TRUSTED_ONLY_ROLES).
 */
export interface TrustedDocuments {
  /** The document registered under `id`, or null. */
  get(id: string): string | null;
  /**
   * Throws the GraphQLError a request gets when `principal` may not send it so: a text from a
   * trusted-only role, or a text and an id together.
   */
  check(request: SentDocument, principal: Principal): void;
  /** `check`, then the document the request runs (the id's, or its text). */
  resolve(request: SentDocument, principal: Principal): string;
}

/** What a request sent: the document's text, or the id of a trusted one. */
export interface SentDocument {
  query?: string | null | undefined;
  id?: string | null | undefined;
}

export const CONSOLE_MANIFEST = 'trusted-documents.json';

const SHA256 = /^(?:sha256:)?([0-9a-f]{64})$/;
const ID = /^[A-Za-z0-9_.:-]{1,200}$/;
const bare = (id: string) => SHA256.exec(id)?.[1] ?? id;

const error = (message: string, code: string) =>
  new GraphQLError(message, { extensions: { code, http: { status: 400 } } });

/** Reads a manifest, checking that each id names its document (a hash-shaped id must be its hash). */
export function readManifest(file: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not a readable JSON file (${(e as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${file}: must be a JSON object of document id to document text`);
  }
  const documents = new Map<string, string>();
  for (const [id, document] of Object.entries(parsed)) {
    if (typeof document !== 'string' || !ID.test(id)) {
      throw new Error(
        `${file}: "${id.slice(0, 80)}" must be an id of 1-200 letters, digits or "_.:-" naming a document's text`,
      );
    }
    const hash = SHA256.exec(id)?.[1];
    if (hash && hash !== createHash('sha256').update(document).digest('hex')) {
      throw new Error(`${file}: "${id}" is not the SHA-256 of its document`);
    }
    documents.set(bare(id), document);
  }
  return documents;
}

export interface TrustedOptions {
  /** Manifests named by HOOKLINE_TRUSTED_DOCUMENTS: read at start, so a bad one stops it. */
  files: string[];
  /** The built console's directory: its manifest is read once it exists (it may be built later). */
  consoleDir?: string | undefined;
  /** Roles that may run trusted documents only. */
  onlyRoles: readonly Role[];
}

export function createTrustedDocuments(options: TrustedOptions): TrustedDocuments {
  const registered = new Map<string, string>();
  for (const file of options.files) for (const [id, doc] of readManifest(file)) registered.set(id, doc);
  const consoleFile = options.consoleDir && join(options.consoleDir, CONSOLE_MANIFEST);
  let fromConsole: Map<string, string> | null = null;
  const onlyRoles = new Set(options.onlyRoles);
  const get = (id: string) => {
    if (consoleFile && !fromConsole && existsSync(consoleFile)) fromConsole = readManifest(consoleFile);
    const key = bare(id);
    return registered.get(key) ?? fromConsole?.get(key) ?? null;
  };
  const check = ({ query, id }: SentDocument, principal: Principal) => {
    if (query && id) {
      throw error('send either a query or the id of a trusted document, not both', 'BAD_REQUEST');
    }
    if (query && onlyRoles.has(principal.role)) {
      throw error(
        `a ${principal.role} token may only run trusted documents (HOOKLINE_TRUSTED_ONLY_ROLES): send the id of a registered document as "documentId" or "extensions.persistedQuery.sha256Hash" instead of its text`,
        'PERSISTED_QUERY_ONLY',
      );
    }
  };
  return {
    get,
    check,
    resolve(request, principal) {
      check(request, principal);
      if (!request.id) return request.query ?? '';
      const document = get(request.id);
      if (document === null) throw notFound(request.id);
      return document;
    },
  };
}

const notFound = (id: string) =>
  error(`no trusted document has the id "${id.slice(0, 200)}"`, 'PERSISTED_QUERY_NOT_FOUND');

/** The trusted id a request sent: `documentId` (GraphQL over HTTP) or Apollo's `persistedQuery`. */
export function trustedIdOf(params: { documentId?: unknown; extensions?: unknown }): string | null {
  if (typeof params.documentId === 'string') return params.documentId;
  const persisted = (
    params.extensions as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | null
  )?.persistedQuery;
  return persisted?.version === 1 && typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash : null;
}

/**
 * Over HTTP: a request's rights are checked first (a text from a trusted-only role, or a text
 * and an id together, are refused), then @graphql-yoga/plugin-persisted-operations puts the
 * document of the id in its place.
 */
export function useTrustedDocuments(trusted: TrustedDocuments): Plugin[] {
  // yoga reads only query, variables, operationName and extensions from a GET's address.
  const idOf = (params: object, request: Request) =>
    trustedIdOf(params) ??
    (request.method === 'GET' ? new URL(request.url).searchParams.get('documentId') : null);
  return [
    {
      onParams({ params, request, context }) {
        const { principal } = context as { principal?: Principal };
        if (principal) trusted.check({ query: params.query, id: idOf(params, request) }, principal);
      },
    },
    usePersistedOperations({
      allowArbitraryOperations: true,
      extractPersistedOperationId: idOf,
      getPersistedOperation: (id) => trusted.get(id),
      customErrors: {
        notFound: ({ params, request }) => notFound(idOf(params, request) ?? ''),
        keyNotFound: () =>
          error('a request needs a query, or the id of a trusted document as "documentId"', 'BAD_REQUEST'),
      },
    }),
  ];
}
