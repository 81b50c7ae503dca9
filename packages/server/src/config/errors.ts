export interface ConfigIssue {
  /** Key path as written in YAML (`limits.max_sandboxes_per_user`); '' for a file-level problem. */
  key: string;
  /** The env var that sets the key, when there is one. */
  env?: string;
  /** One line, `invalid config: …`; never contains a secret. */
  message: string;
}

/**
 * The configuration is unusable: the server must not start. `key` and `env` name the
 * first problem; `issues` lists all of them; `message` has one line per issue.
 */
export class ConfigError extends Error {
  readonly key: string;
  readonly env: string | undefined;
  readonly issues: readonly ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    if (issues.length === 0) throw new TypeError('ConfigError needs at least one issue');
    super(issues.map((i) => i.message).join('\n'));
    this.name = 'ConfigError';
    const first = issues[0] as ConfigIssue;
    this.key = first.key;
    this.env = first.env;
    this.issues = issues;
  }

  static single(key: string, message: string, env?: string): ConfigError {
    return new ConfigError([{ key, env, message: `invalid config: ${message}` }]);
  }
}
