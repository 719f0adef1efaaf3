/**
 * The repository links only inside itself, to what is there: the README and docs/ are read on
 * GitHub, in an editor and in a copy of the repository alone, where a link to a sibling
 * checkout or to a path on someone's machine leads nowhere, and a moved section leaves links
 * to its old heading behind.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const self = 'test/server/docs-links.test.ts';

// Tracked and still there (a file deleted but not yet committed is gone for a reader).
const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter((file) => file && existsSync(`${root}${file}`));
const files = new Set(tracked);
const directories = new Set(
  tracked.flatMap((file) =>
    file
      .split('/')
      .slice(0, -1)
      .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
  ),
);

const binary = /\.(png|jpe?g|gif|ico|woff2?|wasm|gz|tgz|zip)$/;
const text = (file: string) => readFileSync(`${root}${file}`, 'utf8');

/** Markdown without its code: fenced blocks and inline code spans hold examples, not links. */
function prose(markdown: string): string {
  return markdown
    .replace(/^([ \t]*)(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1\2[^\n]*$/gm, '')
    .replace(/(`+)[\s\S]*?\1/g, '');
}

/** GitHub's anchor of a heading (github-slugger's rule): lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');

const anchorsOf = new Map<string, Set<string>>();
function anchors(file: string): Set<string> {
  let found = anchorsOf.get(file);
  if (!found) {
    found = new Set();
    const seen = new Map<string, number>();
    const markdown = text(file).replace(/^([ \t]*)(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1\2[^\n]*$/gm, '');
    for (const [, heading] of markdown.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
      const base = slug(heading as string);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      found.add(n ? `${base}-${n}` : base);
    }
    for (const [, id] of markdown.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) found.add(id as string);
    anchorsOf.set(file, found);
  }
  return found;
}

/** Every link target of a Markdown file: inline links and images, reference definitions, HTML. */
function linksOf(markdown: string): string[] {
  const body = prose(markdown);
  const targets: string[] = [];
  for (const [, target] of body.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+["'(][^)]*)?\)/g))
    targets.push(target as string);
  for (const [, target] of body.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm))
    targets.push(target as string);
  for (const [, target] of body.matchAll(/\b(?:href|src)="([^"]*)"/g)) targets.push(target as string);
  return targets;
}

/** What is wrong with `target` linked from `file`, or null when it is fine. */
function problem(file: string, target: string): string | null {
  if (/^(https?|mailto):/i.test(target)) return null;
  if (/^[a-z][a-z\d+.-]*:/i.test(target)) return 'a link that leaves the repository';
  if (target.startsWith('/')) return 'an absolute path: it leaves the repository';
  const [path = '', fragment] = target.split('#');
  const resolved = path ? posix.normalize(posix.join(posix.dirname(file), decodeURI(path))) : file;
  if (resolved === '..' || resolved.startsWith('../')) return 'a path that leaves the repository';
  const clean = resolved.replace(/\/$/, '');
  if (!files.has(clean) && !directories.has(clean)) {
    return `${clean} is not in the repository`;
  }
  if (fragment && clean.endsWith('.md') && !anchors(clean).has(fragment)) {
    return `${clean} has no heading #${fragment}`;
  }
  return null;
}

describe('links of the repository', () => {
  const markdown = tracked.filter((file) => file.endsWith('.md'));

  it('finds the documents to check', () => {
    assert.ok(markdown.includes('README.md'));
    assert.ok(markdown.filter((file) => file.startsWith('docs/')).length >= 5, markdown.join(', '));
  });

  it('every relative link of a Markdown file leads to a file of the repository, and its heading', () => {
    const broken: string[] = [];
    for (const file of markdown) {
      for (const target of linksOf(text(file))) {
        const wrong = problem(file, target);
        if (wrong) broken.push(`${file}: (${target}) ${wrong}`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it('no file names a path above the repository or on a machine of its own', () => {
    const found: string[] = [];
    for (const file of tracked) {
      if (file === self || binary.test(file) || file === 'package-lock.json') continue;
      const lines = text(file).split('\n');
      lines.forEach((line, i) => {
        for (const [up] of line.matchAll(/(?<![\w.])(?:\.\.\/)+[\w@.-]*/g)) {
          if (posix.normalize(posix.join(posix.dirname(file), up)).startsWith('..')) {
            found.push(`${file}:${i + 1}: ${up}`);
          }
        }
        for (const [local] of line.matchAll(
          /(?:file:\/\/|(?<![\w.:/-])\/(?:work|home|Users|root)\/)[^\s'"`)]*/g,
        )) {
          found.push(`${file}:${i + 1}: ${local}`);
        }
      });
    }
    assert.deepEqual(found, []);
  });

  it('files named in comments and documents from the top of the repository exist', () => {
    const missing: string[] = [];
    const mention =
      /(?<![\w./@-])((?:src|test|docs|bench|examples|bin|drizzle|console)\/[\w./-]*[\w-]\.(?:md|ts|tsx|js|json|png|sql|html|css))\b/g;
    for (const file of tracked) {
      if (binary.test(file) || file === 'package-lock.json') continue;
      for (const [, named] of text(file).matchAll(mention)) {
        const path = named as string;
        // Built by `npm install`, not tracked.
        if (path.startsWith('console/dist/')) continue;
        // From the top, or from a folder of its own (console/ is a package with its own src/).
        const bases = ['', ...directories].filter((dir) => file.startsWith(`${dir}/`) || dir === '');
        const candidates = bases.flatMap((dir) => {
          const full = dir ? `${dir}/${path}` : path;
          // Imports and comments name the compiled .js of a .ts source.
          return [full, full.replace(/\.js$/, '.ts'), full.replace(/\.js$/, '.tsx')];
        });
        if (!candidates.some((candidate) => files.has(candidate))) {
          missing.push(`${file}: ${path}`);
        }
      }
    }
    assert.deepEqual([...new Set(missing)], []);
  });
});
