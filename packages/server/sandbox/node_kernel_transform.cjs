// @ts-check
/**
 * Cell rewriting for node_kernel.cjs (see that file for the list of runtime npm packages).
 *
 * A notebook cell is not a module: its top-level declarations must outlive the cell, and
 * re-running `let x = 1` must not fail with "already declared". So top-level declarations become
 * assignments to properties of the context's global object (as the Node REPL does for top-level
 * await). Cells that use top-level `await` are wrapped in an async arrow function whose return
 * value is the last expression. Edits keep every newline so that stack-trace line numbers match
 * what the user typed.
 */
'use strict';

const acorn = require('acorn');

/**
 * @typedef {object} PreparedCell
 * @property {string} code       JavaScript to compile as a classic script
 * @property {string[]} names    global names the cell declares (the kernel pre-creates them so
 *                               assignments also work in strict-mode cells)
 * @property {boolean} isAsync   code evaluates to a Promise of the cell's value
 * @property {boolean} hasResult the cell ends with an expression whose value should be shown
 */
/** @typedef {{start: number, end: number, text: string, seq: number}} Edit */
/** @typedef {any} Node  acorn's ESTree nodes; typing them fully is not worth it here */

/** @type {typeof import('sucrase') | undefined} */
let sucrase;

/** Loads the TypeScript stripper (about 75 ms), once. */
function loadTypeScript() {
  return (sucrase ??= require('sucrase'));
}

/**
 * Strips TypeScript syntax. sucrase is pure JS, keeps top-level await and modern syntax as is and
 * keeps line numbers; it is loaded on first use because JavaScript kernels never need it.
 * @param {string} code
 * @returns {string}
 */
function stripTypes(code) {
  // sucrase silently drops namespace bodies; an error beats code that vanishes.
  if (/^[ \t]*(export\s+)?(namespace|module)\s+[\w$.]+\s*\{/m.test(code)) {
    const message = 'TypeScript namespaces are not supported here; use an object instead';
    throw Object.assign(new SyntaxError(message), { stack: `SyntaxError: ${message}` });
  }
  const { transform } = loadTypeScript();
  try {
    // keepUnusedImports: an import used only by later cells must not be elided.
    return transform(code, {
      transforms: ['typescript'],
      disableESTransforms: true,
      keepUnusedImports: true,
    }).code;
  } catch (err) {
    const syntaxError = new SyntaxError(err instanceof Error ? err.message : String(err));
    syntaxError.stack = `SyntaxError: ${syntaxError.message}`;
    throw syntaxError;
  }
}

/**
 * acorn is used only to find declarations; if it cannot parse the cell (a syntax error, or syntax
 * newer than acorn) the cell runs untransformed so V8 reports or accepts it itself.
 * @param {string} code
 * @returns {Node | null}
 */
function parse(code) {
  /** @type {acorn.Options} */
  const options = { ecmaVersion: 'latest', allowAwaitOutsideFunction: true, sourceType: 'script' };
  try {
    return acorn.parse(code, options);
  } catch {
    try {
      return acorn.parse(code, { ...options, sourceType: 'module' }); // static import/export
    } catch {
      return null;
    }
  }
}

/**
 * Visits `node` and its descendants except those inside functions (their own scope).
 * @param {Node} node
 * @param {(node: Node, parent: Node | null) => void} visit
 * @param {Node | null} [parent]
 */
function walkOutsideFunctions(node, visit, parent = null) {
  visit(node, parent);
  for (const key of Object.keys(node)) {
    const value = node[key];
    for (const child of Array.isArray(value) ? value : [value]) {
      // Functions and class static blocks have their own `var` scope and cannot contain a
      // top-level await.
      if (child && typeof child.type === 'string' && !/Function|StaticBlock/.test(child.type)) {
        walkOutsideFunctions(child, visit, node);
      }
    }
  }
}

/**
 * @param {Node} pattern an Identifier or a destructuring pattern
 * @param {string[]} out
 */
function patternNames(pattern, out) {
  if (pattern.type === 'Identifier') out.push(pattern.name);
  else if (pattern.type === 'ObjectPattern')
    for (const p of pattern.properties) patternNames(p.type === 'RestElement' ? p : p.value, out);
  else if (pattern.type === 'ArrayPattern')
    for (const el of pattern.elements)
      if (el) patternNames(el, out);
      else if (pattern.type === 'AssignmentPattern') patternNames(pattern.left, out);
      else if (pattern.type === 'RestElement') patternNames(pattern.argument, out);
}

/**
 * @param {string} source   the cell as the user wrote it
 * @param {boolean} typescript
 * @returns {PreparedCell}
 */
function prepareCell(source, typescript) {
  let code = typescript ? stripTypes(source) : source;
  // As in the Node REPL, a cell like `{ a: 1 }` means an object, not a block.
  if (/^\s*\{[^]*\}\s*$/.test(code) && parse(`(${code}\n)`)) code = `(${code}\n)`;
  const program = parse(code);
  if (!program) return { code, names: [], isAsync: false, hasResult: false };

  /** @type {Edit[]} */
  const edits = [];
  /** @type {(start: number, end: number, text: string) => void} Replaced newlines are kept. */
  const edit = (start, end, text) => {
    const newlines = code.slice(start, end).replace(/[^\n]/g, '');
    edits.push({ start, end, text: text + newlines, seq: edits.length });
  };
  /** @type {string[]} */
  const names = [];
  let isAsync = false;
  /** @type {{node: Node, parent: Node}[]} nested `var`s; only async cells must rewrite them */
  const nestedVars = [];

  walkOutsideFunctions(program, (node, parent) => {
    if (node.type === 'AwaitExpression' || (node.type === 'ForOfStatement' && node.await)) isAsync = true;
    if (node.type === 'VariableDeclaration' && node.kind === 'var' && parent?.type !== 'Program')
      nestedVars.push({ node, parent });
  });

  /**
   * `let a = 1, {b} = o, c;` → `void (a = 1, {b} = o, c = undefined);`
   * @param {Node} decl
   * @param {Node | null} parent
   */
  const rewriteVariables = (decl, parent) => {
    for (const d of decl.declarations) patternNames(d.id, names);
    const inForHead = parent && /^For(In|Of)Statement$/.test(parent.type) && parent.left === decl;
    if (inForHead) return edit(decl.start, decl.declarations[0].start, ''); // for (k in o)
    edit(decl.start, decl.declarations[0].start, 'void (');
    for (const d of decl.declarations)
      if (!d.init && decl.kind !== 'var') edit(d.id.end, d.id.end, ' = undefined');
    if (code[decl.end - 1] === ';') edit(decl.end - 1, decl.end, ');');
    else edit(decl.end, decl.end, ')');
  };

  /** @param {Node} node a top-level statement or exported declaration */
  const rewriteTopLevel = (node) => {
    if (node.type === 'VariableDeclaration') rewriteVariables(node, null);
    else if (node.type === 'FunctionDeclaration') {
      names.push(node.id.name); // a script-level function declaration creates a global already
    } else if (node.type === 'ClassDeclaration') {
      names.push(node.id.name);
      edit(node.start, node.start, `${node.id.name} = `);
      edit(node.end, node.end, ';');
    } else if (node.type === 'ImportDeclaration') {
      isAsync = true;
      const parts = node.specifiers.map((/** @type {Node} */ s) => {
        names.push(s.local.name);
        if (s.type === 'ImportNamespaceSpecifier') return `${s.local.name} = __codeint_m;`;
        if (s.type === 'ImportDefaultSpecifier') return `${s.local.name} = __codeint_m.default;`;
        const imported = s.imported.type === 'Identifier' ? s.imported.name : s.imported.value;
        return `${s.local.name} = __codeint_m[${JSON.stringify(imported)}];`;
      });
      const load = `const __codeint_m = await import(${JSON.stringify(node.source.value)});`;
      edit(node.start, node.end, `{ ${load} ${parts.join(' ')} }`);
    } else if (node.type === 'ExportNamedDeclaration' || node.type === 'ExportDefaultDeclaration') {
      if (!node.declaration) return edit(node.start, node.end, ''); // `export {a, b}`
      edit(node.start, node.declaration.start, ''); // keep the declaration, drop `export`
      if (node.declaration.id || node.declaration.declarations) rewriteTopLevel(node.declaration);
    } else if (node.type === 'ExportAllDeclaration') edit(node.start, node.end, '');
  };

  const statements = program.body.filter((/** @type {Node} */ s) => s.type !== 'EmptyStatement');
  const last = statements[statements.length - 1];
  const hasResult = last?.type === 'ExpressionStatement';
  if (isAsync) {
    // Hoisted functions are local to the async wrapper: publish them first thing (after any
    // "use strict" directive, which must stay first). Pushed first so they precede other edits.
    const firstStatement = program.body.find((/** @type {Node} */ s) => !s.directive);
    const at = firstStatement ? firstStatement.start : code.length;
    for (const s of program.body) {
      const fn = s.type.startsWith('Export') ? s.declaration : s;
      if (fn?.type === 'FunctionDeclaration') edit(at, at, `this.${fn.id.name} = ${fn.id.name}; `);
    }
  }
  for (const node of program.body) rewriteTopLevel(node);
  // In a classic script a nested `var` is global already; inside the async wrapper it is not.
  if (isAsync) for (const { node, parent } of nestedVars) rewriteVariables(node, parent);
  if (isAsync && hasResult) {
    edit(last.expression.start, last.expression.start, 'return (');
    edit(last.expression.end, last.expression.end, ')');
  }

  // Apply from the end so offsets stay valid; at one position, replacements go before inserts
  // and earlier inserts end up first.
  edits.sort((a, b) => b.start - a.start || b.end - a.end || b.seq - a.seq);
  let out = code;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  // Same first line, so line numbers in stack traces still match the cell.
  if (isAsync) out = `(async () => {${out}\n})()`;
  return { code: out, names: [...new Set(names)], isAsync, hasResult };
}

module.exports = { prepareCell, loadTypeScript };
