"""Data analysis in a sandbox, from Python: upload a CSV, summarise it with pandas,
draw a chart with matplotlib and save the PNG here.

    CODEINT_API_URL=http://127.0.0.1:3000 CODEINT_API_KEY=ci_... \
        PYTHONPATH=sdk/python /usr/bin/python3 examples/data-analysis/analyze.py [chart.png]
"""

import base64
import os
import sys

from codeint import Sandbox

HERE = os.path.dirname(os.path.abspath(__file__))
CHART_FILE = sys.argv[1] if len(sys.argv) > 1 else os.path.join("codeint-out", "sales-by-month-py.png")


def check(execution):
    """Fails loudly when the code in the sandbox raised (errors in code are not exceptions)."""
    if execution.error:
        raise RuntimeError(
            "%s: %s\n%s" % (execution.error.name, execution.error.value, execution.error.traceback)
        )
    return execution


# The API URL and key come from CODEINT_API_URL / CODEINT_API_KEY;
# leaving the block kills the sandbox.
with Sandbox.create(runtime="python") as sandbox:
    with open(os.path.join(HERE, "sales.csv"), "rb") as f:
        written = sandbox.files.write("sales.csv", f)
    print("uploaded %s (%d bytes)" % (written.path, written.size))

    # Variables live on between run_code() calls, as in a notebook.
    check(
        sandbox.run_code(
            """
import pandas as pd
df = pd.read_csv("sales.csv", parse_dates=["date"])
print(f"{len(df)} rows, {df.date.min():%Y-%m-%d} to {df.date.max():%Y-%m-%d}")
print()
print(df[["units", "revenue"]].describe().round(1).to_string())
print()
print("Revenue by region:")
print(df.groupby("region")["revenue"].sum().sort_values(ascending=False).round(2).to_string())
""",
            on_stdout=lambda text: print(text, end="", flush=True),
        )
    )

    # The best product, as a value (the text of the last expression).
    best = check(sandbox.run_code('df.groupby("product")["revenue"].sum().idxmax()'))
    print("\nbest-selling product: %s" % best.text)

    # A figure shown in the sandbox comes back as a PNG result (base64).
    chart = check(
        sandbox.run_code(
            """
import matplotlib.pyplot as plt
monthly = df.groupby([df.date.dt.to_period("M"), "region"])["revenue"].sum().unstack()
ax = monthly.plot(figsize=(8, 4), marker="o", title="Revenue by month and region")
ax.set_xlabel("month")
ax.set_ylabel("revenue")
plt.tight_layout()
plt.show()
"""
        )
    )
    png = next((r.png for r in chart.results if r.png), None)
    if png is None:
        raise RuntimeError("the sandbox drew no chart")
    os.makedirs(os.path.dirname(os.path.abspath(CHART_FILE)), exist_ok=True)
    with open(CHART_FILE, "wb") as f:
        f.write(base64.b64decode(png))
    print("chart saved to %s" % CHART_FILE)
