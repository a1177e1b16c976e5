/**
 * The library's own code in a notebook: `mm.showSource('BatchNorm1d', 'forward')` shows that method as
 * it is in lib/, a highlighted TypeScript block. The class and its member are found by name in the
 * files' syntax trees (TypeScript's parser), so the cell shows the whole member whatever its text.
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as TS from 'typescript';
import { PROJECT_ROOT } from '../env/paths';
import { fail } from '../check';
import { display, MimeBundle } from './display';

/** Where a member of a library class is, and its text (JSDoc included, its indentation removed). */
export interface SourceOf {
  /** The file, relative to the project's root: `lib/nn/layers.ts`. */
  file: string;
  /** Its first and last line in the file (from 1). */
  startLine: number;
  endLine: number;
  text: string;
}

/** lib/'s TypeScript files below `dir`, as paths from the project's root; not the AssemblyScript kernels (lib/assembly). */
function libraryFiles(dir = 'lib'): string[] {
  return fs
    .readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((e) => {
      const file = `${dir}/${e.name}`;
      if (e.isDirectory()) return file === 'lib/assembly' ? [] : libraryFiles(file);
      return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [file] : [];
    });
}

/** Where a member of a library class is and its text; `where` is the function the user called. */
function findSource(where: string, className: string, member: string): SourceOf {
  // Loaded on first use: the compiler takes most of a second to load, and no other code of the library needs it.
  const ts = require('typescript') as typeof TS;
  const classes = new Map<string, { file: string; sf: TS.SourceFile; node: TS.ClassDeclaration }>();
  for (const file of libraryFiles()) {
    const text = fs.readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    for (const node of sf.statements) {
      if (!ts.isClassDeclaration(node) || !node.name) continue;
      if (ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) {
        classes.set(node.name.text, { file, sf, node });
      }
    }
  }
  const found = typeof className === 'string' ? classes.get(className) : undefined;
  if (!found) {
    fail(where, 'className', className, `one of the library's classes (${[...classes.keys()].sort().join(', ')})`);
  }
  const { file, sf, node } = found;
  const nameOf = (m: TS.ClassElement) =>
    ts.isConstructorDeclaration(m) ? 'constructor' : m.name && ts.isIdentifier(m.name) ? m.name.text : undefined;
  // Overloads are several declarations of one name: show them all, from the first to the implementation.
  const matches = node.members.filter((m) => nameOf(m) === member);
  if (typeof member !== 'string' || matches.length === 0) {
    const names = [...new Set(node.members.map(nameOf).filter((n) => n !== undefined))];
    fail(
      where,
      'member',
      member,
      `one of the members that ${className} declares itself (${file}): ${names.join(', ')}`,
    );
  }
  // From the member's JSDoc, if it has one, to its end.
  const jsDoc = (matches[0] as { jsDoc?: TS.Node[] }).jsDoc;
  const start = jsDoc?.length ? jsDoc[0].getStart(sf) : matches[0].getStart(sf);
  const end = matches[matches.length - 1].getEnd();
  const from = sf.getLineAndCharacterOfPosition(start);
  const indent = ' '.repeat(from.character);
  const lines = (indent + sf.text.slice(start, end)).split('\n');
  const text = lines.map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l)).join('\n');
  return { file, startLine: from.line + 1, endLine: sf.getLineAndCharacterOfPosition(end).line + 1, text };
}

/** The source of `member` (a method, property, accessor or `constructor`) of the library's exported class `className`. */
export function sourceOf(className: string, member: string): SourceOf {
  return findSource('sourceOf', className, member);
}

/** What `showSource` displays: the source as a Markdown block of TypeScript, and as plain text for a terminal. */
export function sourceBundle(className: string, member: string): MimeBundle {
  return bundle('sourceBundle', className, member);
}

function bundle(where: string, className: string, member: string): MimeBundle {
  const s = findSource(where, className, member);
  const place = `\`${className}.${member}\` in \`${s.file}\`, lines ${s.startLine}-${s.endLine}`;
  // A fence longer than any run of backticks in the code (template literals), so that none ends it.
  const fence = '`'.repeat(Math.max(3, ...(s.text.match(/`+/g) ?? []).map((r) => r.length + 1)));
  return {
    'text/markdown': `${place}:\n\n${fence}typescript\n${s.text}\n${fence}\n`,
    'text/plain': `// ${place.replace(/`/g, '')}\n${s.text}`,
  };
}

/**
 * Show the source of `member` of the library class `className` (`mm.showSource('BatchNorm1d',
 * 'forward')`): a Markdown block of TypeScript, which JupyterLab and the HTML export highlight, under a
 * line that says where it is; a terminal gets the plain text.
 */
export function showSource(className: string, member: string): void {
  display(bundle('showSource', className, member));
}
