/** The working directory of a sandbox: relative paths resolve from here (as the server does). */
export const HOME = '/home/user';

/** `path` made absolute (from /home/user) and normalised, as POSIX `normpath` would. */
export function resolveSandboxPath(path: string): string {
  const absolute = path.startsWith('/') ? path : `${HOME}/${path}`;
  const parts: string[] = [];
  for (const part of absolute.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** The folder and name of a normalised absolute path (`/` has no parent). */
export function splitPath(absolute: string): { dir: string; name: string } | undefined {
  if (absolute === '/') return undefined;
  const i = absolute.lastIndexOf('/');
  return { dir: i === 0 ? '/' : absolute.slice(0, i), name: absolute.slice(i + 1) };
}

/** One shell word that the shell reads back as exactly `value`. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
