/* eslint-disable no-console -- an example prints for the person running it */
/**
 * Code execution as a tool of an LLM agent: the `run_code` tool's definition (OpenAI
 * and Anthropic formats), what it does with a sandbox, and the loop that feeds each
 * result back to the model until it answers.
 *
 * The model is faked (a scripted function that replies as a model would), so this
 * runs without any model API; the sandbox is real:
 *
 *   CODEINT_API_URL=http://127.0.0.1:3000 CODEINT_API_KEY=ci_… npx tsx examples/agent-tool/agent.ts [--provider anthropic]
 *   npx tsx examples/agent-tool/agent.ts --print-tools     # the tool definitions as JSON
 */
import { Sandbox, type Execution } from '@codeint/sdk';

// ---------------------------------------------------------------- the tool

/** JSON Schema of the tool's input. */
export const runCodeParameters = {
  type: 'object',
  properties: {
    code: {
      type: 'string',
      description: 'The code to run. Variables, imports and files persist between calls.',
    },
    language: {
      type: 'string',
      enum: ['python', 'javascript', 'typescript', 'bash'],
      description: 'Language of the code (default python).',
    },
  },
  required: ['code'],
  additionalProperties: false,
} as const;

const description =
  'Run code in a stateful, isolated sandbox (like a Jupyter notebook) and get back what it printed, ' +
  'the value of its last expression, and any error with its traceback. Python has numpy, pandas and ' +
  'matplotlib; plt.show() returns the chart as an image. There is no network access.';

/** The tool for OpenAI's Chat Completions / Responses APIs (`tools: [openAITool]`). */
export const openAITool = {
  type: 'function',
  function: { name: 'run_code', description, parameters: runCodeParameters },
} as const;

/** The tool for Anthropic's Messages API (`tools: [anthropicTool]`). */
export const anthropicTool = { name: 'run_code', description, input_schema: runCodeParameters } as const;

export interface RunCodeInput {
  code: string;
  language?: 'python' | 'javascript' | 'typescript' | 'bash';
}

/** What the tool hands back: a text report for the model, and the images (base64 PNG) it drew. */
export interface ToolOutput {
  text: string;
  images: string[];
  isError: boolean;
}

const MAX_TOOL_TEXT = 8_000;

/** Long output would flood the model's context: keep its head and its tail. */
function clip(text: string, max = MAX_TOOL_TEXT): string {
  if (text.length <= max) return text;
  const half = Math.floor(max / 2);
  return `${text.slice(0, half)}\n… [${text.length - max} characters cut] …\n${text.slice(-half)}`;
}

/** An execution as the model should read it. */
export function describeExecution(execution: Execution): ToolOutput {
  const parts: string[] = [];
  const stdout = execution.logs.stdout.join('');
  const stderr = execution.logs.stderr.join('');
  if (stdout) parts.push(`stdout:\n${stdout}`);
  if (stderr) parts.push(`stderr:\n${stderr}`);
  const images: string[] = [];
  for (const result of execution.results) {
    if (result.png) {
      images.push(result.png);
      parts.push(`[image/png result #${images.length}]`);
    } else if (result.text !== undefined) {
      parts.push(`${result.isMainResult ? 'result' : 'display'}: ${result.text}`);
    }
  }
  if (execution.status === 'timeout') parts.push('error: the code timed out and was interrupted');
  else if (execution.error) {
    const { name, value, traceback } = execution.error;
    // One line that sums it up, then where it happened.
    parts.push(`error: ${name}: ${value}${traceback ? `\n${traceback.trimEnd()}` : ''}`);
  }
  if (parts.length === 0) parts.push('(no output)');
  return { text: clip(parts.join('\n\n')), images, isError: execution.error !== undefined };
}

/** Runs the tool: the model's code in the conversation's sandbox. */
export async function runCodeTool(sandbox: Sandbox, input: RunCodeInput): Promise<ToolOutput> {
  const execution = await sandbox.runCode(input.code, {
    language: input.language ?? 'python',
    timeoutMs: 30_000,
  });
  return describeExecution(execution);
}

// ---------------------------------------------------------------- the model (faked)

/**
 * The only fake part: what a model would decide, given the last tool output. It
 * calls the tool with a bug first, reads the error, fixes the code, and then answers
 * from what the code printed.
 */
function scriptedModel(lastToolOutput: string | undefined): { code: string } | { answer: string } {
  if (lastToolOutput === undefined)
    return {
      code: [
        'import numpy as np',
        'n = 10_000',
        'sieve = np.ones(n, dtype=bool); sieve[:2] = False',
        'for i in range(2, int(n ** 0.5) + 1):',
        '    if sieve[i]: sieve[i * i :: i] = False',
        'primes = np.flatnonzero(seive)  # a typo, as models make',
        'print(len(primes), primes[-1])',
      ].join('\n'),
    };
  if (lastToolOutput.includes('NameError'))
    return { code: 'primes = np.flatnonzero(sieve)\nprint(len(primes), primes[-1])' };
  const match = /stdout:\n(\d+) (\d+)/.exec(lastToolOutput);
  if (!match) return { answer: `I could not work it out; the tool said:\n${lastToolOutput}` };
  return { answer: `There are ${match[1]} primes below 10,000; the largest is ${match[2]}.` };
}

// ---------------------------------------------------------------- OpenAI-style loop

export type OpenAIToolCall = { id: string; type: 'function'; function: { name: string; arguments: string } };
export type OpenAIMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: OpenAIToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };
/** A chat model: the messages so far and the tools in, the assistant's next message out. */
export type OpenAIModel = (messages: OpenAIMessage[], tools: readonly unknown[]) => Promise<OpenAIMessage>;

const fakeOpenAI: OpenAIModel = async (messages) => {
  const last = messages.at(-1);
  const decision = scriptedModel(last?.role === 'tool' ? last.content : undefined);
  if ('answer' in decision) return { role: 'assistant', content: decision.answer };
  const id = `call_${messages.length}`;
  const args = JSON.stringify({ code: decision.code, language: 'python' });
  return {
    role: 'assistant',
    content: null,
    tool_calls: [{ id, type: 'function', function: { name: 'run_code', arguments: args } }],
  };
};

export async function openAIAgent(question: string, model: OpenAIModel, sandbox: Sandbox): Promise<string> {
  const messages: OpenAIMessage[] = [
    { role: 'system', content: 'You are a careful analyst. Use run_code to compute; never guess numbers.' },
    { role: 'user', content: question },
  ];
  for (let turn = 0; turn < 8; turn++) {
    const reply = await model(messages, [openAITool]);
    messages.push(reply);
    if (reply.role !== 'assistant' || !reply.tool_calls?.length) return reply.content ?? '';
    for (const call of reply.tool_calls) {
      let content: string;
      if (call.function.name !== 'run_code') content = `error: unknown tool ${call.function.name}`;
      else {
        const input = JSON.parse(call.function.arguments) as RunCodeInput;
        show('tool call', input.code);
        const output = await runCodeTool(sandbox, input);
        // Tool messages carry text only: images are mentioned, not sent.
        content = output.text;
      }
      show('tool result', content);
      messages.push({ role: 'tool', tool_call_id: call.id, content });
    }
  }
  throw new Error('no answer after 8 turns');
}

// ---------------------------------------------------------------- Anthropic-style loop

export type AnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | {
      type: 'tool_result';
      tool_use_id: string;
      is_error?: boolean;
      content: (
        | { type: 'text'; text: string }
        | { type: 'image'; source: { type: 'base64'; media_type: 'image/png'; data: string } }
      )[];
    };
export type AnthropicMessage = { role: 'user' | 'assistant'; content: string | AnthropicBlock[] };
export type AnthropicModel = (
  messages: AnthropicMessage[],
  tools: readonly unknown[],
) => Promise<{ content: AnthropicBlock[]; stop_reason: 'tool_use' | 'end_turn' }>;

const fakeAnthropic: AnthropicModel = async (messages) => {
  const last = messages.at(-1)?.content;
  const result = Array.isArray(last) ? last.find((b) => b.type === 'tool_result') : undefined;
  const text =
    result?.type === 'tool_result' && result.content[0]?.type === 'text' ? result.content[0].text : undefined;
  const decision = scriptedModel(text);
  if ('answer' in decision)
    return { content: [{ type: 'text', text: decision.answer }], stop_reason: 'end_turn' };
  return {
    content: [
      { type: 'tool_use', id: `toolu_${messages.length}`, name: 'run_code', input: { code: decision.code } },
    ],
    stop_reason: 'tool_use',
  };
};

export async function anthropicAgent(
  question: string,
  model: AnthropicModel,
  sandbox: Sandbox,
): Promise<string> {
  const messages: AnthropicMessage[] = [{ role: 'user', content: question }];
  for (let turn = 0; turn < 8; turn++) {
    const reply = await model(messages, [anthropicTool]);
    messages.push({ role: 'assistant', content: reply.content });
    const calls = reply.content.filter((b) => b.type === 'tool_use');
    if (reply.stop_reason !== 'tool_use' || calls.length === 0)
      return reply.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    const results: AnthropicBlock[] = [];
    for (const call of calls) {
      const input = call.input as RunCodeInput;
      show('tool call', input.code);
      const output = await runCodeTool(sandbox, input);
      show('tool result', output.text);
      // Tool results can carry images: the model sees the chart it drew.
      results.push({
        type: 'tool_result',
        tool_use_id: call.id,
        is_error: output.isError,
        content: [
          { type: 'text', text: output.text },
          ...output.images.map((data) => ({
            type: 'image' as const,
            source: { type: 'base64' as const, media_type: 'image/png' as const, data },
          })),
        ],
      });
    }
    messages.push({ role: 'user', content: results });
  }
  throw new Error('no answer after 8 turns');
}

// ---------------------------------------------------------------- main

function show(label: string, text: string): void {
  console.log(`--- ${label}\n${text.trimEnd()}`);
}

async function main(args: string[]): Promise<void> {
  if (args.includes('--print-tools')) {
    console.log(JSON.stringify({ openai: openAITool, anthropic: anthropicTool }, null, 2));
    return;
  }
  const provider = args[args.indexOf('--provider') + 1] === 'anthropic' ? 'anthropic' : 'openai';
  const question = 'How many primes are there below 10,000, and which is the largest?';
  show('user', question);
  // One sandbox per conversation: the model's variables survive between its tool calls.
  const sandbox = await Sandbox.create({ runtime: 'python' });
  try {
    const answer =
      provider === 'anthropic'
        ? await anthropicAgent(question, fakeAnthropic, sandbox)
        : await openAIAgent(question, fakeOpenAI, sandbox);
    show(`answer (${provider}-style loop)`, answer);
  } finally {
    await sandbox.kill();
  }
}

if (import.meta.filename === process.argv[1]) await main(process.argv.slice(2));
