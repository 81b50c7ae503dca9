/* eslint-disable no-console -- an example prints for the person running it */
/**
 * Data analysis in a sandbox, from TypeScript: upload a CSV, summarise it with pandas,
 * draw a chart with matplotlib and save the PNG here.
 *
 *   CODEINT_API_URL=http://127.0.0.1:3000 CODEINT_API_KEY=ci_… npx tsx examples/data-analysis/analyze.ts [chart.png]
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Sandbox, type Execution } from '@codeint/sdk';

const csv = join(import.meta.dirname, 'sales.csv');
const chartFile = process.argv[2] ?? 'codeint-out/sales-by-month.png';

/** Fails loudly when the code in the sandbox raised (errors in code are not exceptions). */
function check(execution: Execution): Execution {
  if (execution.error) {
    throw new Error(`${execution.error.name}: ${execution.error.value}\n${execution.error.traceback}`);
  }
  return execution;
}

// The API URL and key come from CODEINT_API_URL / CODEINT_API_KEY.
const sandbox = await Sandbox.create({ runtime: 'python' });
try {
  const written = await sandbox.files.write('sales.csv', await readFile(csv));
  console.log(`uploaded ${written.path} (${written.size} bytes)`);

  // Variables live on between runCode() calls, as in a notebook.
  check(
    await sandbox.runCode(
      `
import pandas as pd
df = pd.read_csv("sales.csv", parse_dates=["date"])
print(f"{len(df)} rows, {df.date.min():%Y-%m-%d} to {df.date.max():%Y-%m-%d}")
print()
print(df[["units", "revenue"]].describe().round(1).to_string())
print()
print("Revenue by region:")
print(df.groupby("region")["revenue"].sum().sort_values(ascending=False).round(2).to_string())
`,
      { onStdout: (out) => process.stdout.write(out.line) },
    ),
  );

  // The best product, as a value (the text of the last expression).
  const best = check(await sandbox.runCode('df.groupby("product")["revenue"].sum().idxmax()'));
  console.log(`\nbest-selling product: ${best.text}`);

  // A figure shown in the sandbox comes back as a PNG result (base64).
  const chart = check(
    await sandbox.runCode(`
import matplotlib.pyplot as plt
monthly = df.groupby([df.date.dt.to_period("M"), "region"])["revenue"].sum().unstack()
ax = monthly.plot(figsize=(8, 4), marker="o", title="Revenue by month and region")
ax.set_xlabel("month")
ax.set_ylabel("revenue")
plt.tight_layout()
plt.show()
`),
  );
  const png = chart.results.find((r) => r.png)?.png;
  if (!png) throw new Error('the sandbox drew no chart');
  await mkdir(dirname(chartFile), { recursive: true });
  await writeFile(chartFile, Buffer.from(png, 'base64'));
  console.log(`chart saved to ${chartFile}`);
} finally {
  await sandbox.kill();
}
