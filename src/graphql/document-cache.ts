import type { DocumentNode } from 'graphql';
import { LRUCache } from 'lru-cache';

/**
 * Characters of document text whose parsed documents (and parse errors) are kept. yoga's own
 * caches count entries (1,024), and a document of 5,000 tokens parses to about 2.5 MB of AST:
 * 1,024 distinct ones held 2.5 GB. A parsed document weighs about 100 times its text, so this
 * keeps at most about 50 MB, which is still some thousands of the queries clients send.
 */
const CACHED_SOURCE_CHARS = 512 * 1024;

const sized = <T extends object>() =>
  new LRUCache<string, T>({
    maxSize: CACHED_SOURCE_CHARS,
    sizeCalculation: (_value, key) => Math.max(1, key.length),
    // A document longer than this is parsed each time rather than kept: clients' documents are
    // far shorter (GraphiQL's schema query is 2,046 characters), and keeping the long ones a
    // hostile client sends would move their ASTs to the old generation, whose collection cost
    // the server 45% of its CPU under such an attack.
    maxEntrySize: 8 * 1024,
  });

/** yoga's parser caches, bounded by the size of what they hold. */
export function documentCaches() {
  return { documentCache: sized<DocumentNode>(), errorCache: sized<object>() };
}
