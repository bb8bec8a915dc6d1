import {
  appendToPreviewComment,
  extractSections,
  MAX_BODY,
  planMarker,
  postPlanComments,
  syncDriftIssue,
  trimBody,
  upsertComment,
} from "../../.github/scripts/comments.cjs";

/** An in-memory stand-in for the octokit that actions/github-script passes (only the calls we use). */
function fakeGitHub(init: { comments?: Comment[]; issues?: Issue[]; prHead?: string } = {}) {
  const comments: Comment[] = init.comments ?? [];
  const issues: Issue[] = init.issues ?? [];
  let next = 1000;
  const calls: string[] = [];
  const rest = {
    issues: {
      listComments: async () => ({ data: comments }),
      createComment: async (a: { issue_number: number; body: string }) => {
        calls.push(`createComment #${a.issue_number}`);
        const c = { id: next++, issue_number: a.issue_number, body: a.body, user: { type: "Bot" } };
        comments.push(c);
        return { data: c };
      },
      updateComment: async (a: { comment_id: number; body: string }) => {
        calls.push(`updateComment ${a.comment_id}`);
        comments.find((c) => c.id === a.comment_id)!.body = a.body;
        return { data: {} };
      },
      listForRepo: async () => ({ data: issues.filter((i) => i.state === "open") }),
      create: async (a: { title: string; body: string; labels: string[] }) => {
        calls.push(`create ${a.title}`);
        const i = { number: next++, title: a.title, body: a.body, state: "open", labels: a.labels };
        issues.push(i);
        return { data: i };
      },
      update: async (a: { issue_number: number; state: string }) => {
        calls.push(`update #${a.issue_number} ${a.state}`);
        issues.find((i) => i.number === a.issue_number)!.state = a.state;
        return { data: {} };
      },
    },
    pulls: {
      get: async (a: { pull_number: number }) => ({
        data: { number: a.pull_number, head: { sha: init.prHead ?? "abc" } },
      }),
    },
  };
  // github.paginate(fn, args) returns every item: our fakes never page.
  const paginate = async (fn: (a: unknown) => Promise<{ data: unknown[] }>, args: unknown) =>
    (await fn(args)).data;
  return { github: { rest, paginate }, comments, issues, calls };
}
interface Comment {
  id: number;
  body: string;
  user: { type: string };
  issue_number?: number;
}
interface Issue {
  number: number;
  title: string;
  body: string;
  state: string;
  labels?: string[];
  pull_request?: unknown;
}

const core = { info: jest.fn(), notice: jest.fn(), warning: jest.fn() };
const context = (pr?: number) => ({
  repo: { owner: "o", repo: "homelab" },
  payload: pr ? { pull_request: { number: pr } } : {},
});
const repo = { owner: "o", repo: "homelab" };

describe("trimBody", () => {
  it("leaves a body under the limit alone", () => {
    expect(trimBody("short")).toBe("short");
  });

  it("cuts at a line, closes an open code fence and <details>, links the log, and fits GitHub's limit", () => {
    const body = [
      "<!-- homelab-plan:network -->",
      "<details><summary>Resources</summary>",
      "",
      "```",
      ...Array.from({ length: 20000 }, (_, i) => `resource-${i}`),
    ].join("\n");
    const out = trimBody(body, { logUrl: "https://github.com/o/homelab/actions/runs/1" });
    expect(out.length).toBeLessThan(MAX_BODY);
    expect(out.startsWith("<!-- homelab-plan:network -->")).toBe(true);
    expect((out.match(/^```/gm) ?? []).length % 2).toBe(0);
    expect(out).toContain("</details>");
    expect(out).toContain("[run log and job summary](https://github.com/o/homelab/actions/runs/1)");
    // No half line: every resource line is whole.
    expect(out).not.toMatch(/resource-\d+[^\d\n]/);
  });
});

describe("upsertComment", () => {
  it("creates the comment once, then updates it in place", async () => {
    const gh = fakeGitHub();
    const args = { ...repo, issue_number: 7, marker: planMarker("network") };
    const first = await upsertComment(gh.github, { ...args, body: `${planMarker("network")}\nv1` });
    const second = await upsertComment(gh.github, { ...args, body: `${planMarker("network")}\nv2` });
    expect(first.action).toBe("created");
    expect(second).toEqual({ action: "updated", id: first.id });
    expect(gh.comments).toHaveLength(1);
    expect(gh.comments[0]!.body).toContain("v2");
  });

  it("never edits a human's comment that quotes the marker, and keeps stacks apart", async () => {
    const human = { id: 1, body: `${planMarker("network")}\nmine`, user: { type: "User" } };
    const gh = fakeGitHub({ comments: [human] });
    await upsertComment(gh.github, { ...repo, issue_number: 7, marker: planMarker("network"), body: "net" });
    await upsertComment(gh.github, { ...repo, issue_number: 7, marker: planMarker("storage"), body: "sto" });
    expect(human.body).toContain("mine");
    expect(gh.comments.map((c) => c.body.split("\n")[0])).toEqual([
      planMarker("network"),
      planMarker("network"),
      planMarker("storage"),
    ]);
  });
});

describe("postPlanComments (workflow_run side, artifact is untrusted)", () => {
  const run = { head_sha: "abc", html_url: "https://github.com/o/homelab/actions/runs/9" };

  it("posts one comment per stack on the PR the artifact names", async () => {
    const gh = fakeGitHub();
    const files = {
      "pr-number": "12\n",
      "network.md": `${planMarker("network")}\n### ✅ network\n`,
      "network.exit": "0\n",
      "storage.md": `${planMarker("storage")}\n### ❌ storage\n`,
      "storage.exit": "1\n",
    };
    const done = await postPlanComments({ github: gh.github, context: context(), core, files, run });
    expect(done.map((d) => d.stack)).toEqual(["network", "storage"]);
    expect(gh.calls).toEqual(["createComment #12", "createComment #12"]);
    // A second run of the same PR updates both in place.
    await postPlanComments({ github: gh.github, context: context(), core, files, run });
    expect(gh.comments).toHaveLength(2);
  });

  it("rejects a PR number that is not a number", async () => {
    const gh = fakeGitHub();
    await expect(
      postPlanComments({
        github: gh.github,
        context: context(),
        core,
        files: { "pr-number": "12; rm -rf" },
        run,
      }),
    ).rejects.toThrow(/not a PR number/);
  });

  it("does nothing when the PR has moved to another commit (or the artifact names someone else's PR)", async () => {
    const gh = fakeGitHub({ prHead: "def" });
    const done = await postPlanComments({
      github: gh.github,
      context: context(),
      core,
      files: { "pr-number": "12", "network.md": "x" },
      run,
    });
    expect(done).toEqual([]);
    expect(gh.calls).toEqual([]);
  });

  it("forces each body under its own stack's marker and ignores stacks it does not know", async () => {
    const gh = fakeGitHub();
    const files = {
      "pr-number": "3",
      "network.md": `${planMarker("storage")}\nspoof`,
      "evil.md": "x",
      "network.exit": "2",
    };
    await postPlanComments({ github: gh.github, context: context(), core, files, run });
    expect(gh.comments).toHaveLength(1);
    expect(gh.comments[0]!.body.startsWith(planMarker("network"))).toBe(true);
    expect(gh.comments[0]!.body).toContain("did not complete (exit 2)");
  });
});

describe("extractSections / appendToPreviewComment", () => {
  const plan = [
    planMarker("network"),
    "### ✅ homelab plan: `network`",
    "",
    "**summary**",
    "<!-- section:reachability -->",
    "<details><summary>Reachability</summary>",
    "| a | b |",
    "</details>",
    "<!-- /section:reachability -->",
    "<!-- section:other -->",
    "x",
    "<!-- /section:other -->",
  ].join("\n");

  it("lifts only the named sections", () => {
    const s = extractSections(plan, ["reachability", "cost"]);
    expect(s).toContain("| a | b |");
    expect(s).not.toContain("section:other");
  });

  it("appends to pulumi/actions' comment for the stack and replaces the previous append", async () => {
    const heading = "#### :tropical_drink: `preview` on homelab/network";
    const theirs = {
      id: 5,
      body: `${heading}\n\n<details>\n<summary>Pulumi report</summary>\n</details>`,
      user: { type: "Bot" },
    };
    const gh = fakeGitHub({ comments: [theirs] });
    const args = {
      github: gh.github,
      context: context(4),
      core,
      stack: "network",
      project: "homelab",
      markdown: plan,
      logUrl: "u",
    };
    await appendToPreviewComment(args);
    await appendToPreviewComment(args);
    expect(theirs.body.startsWith(heading)).toBe(true);
    expect(theirs.body.match(/homelab-preview-plan:network/g)).toHaveLength(1);
    expect(theirs.body).toContain("| a | b |");
  });

  it("posts its own sticky comment when the action's comment is not there", async () => {
    const gh = fakeGitHub();
    await appendToPreviewComment({
      github: gh.github,
      context: context(4),
      core,
      stack: "storage",
      project: "homelab",
      markdown: plan,
      logUrl: "u",
    });
    expect(gh.calls).toEqual(["createComment #4"]);
  });
});

describe("syncDriftIssue", () => {
  const args = (gh: ReturnType<typeof fakeGitHub>, drifted: boolean) => ({
    github: gh.github,
    context: context(),
    core,
    stack: "network",
    drifted,
    output: "~ opnsense rule",
    runUrl: "https://run",
  });

  it("opens one issue on drift, comments on it while drift lasts, closes it when clean", async () => {
    const gh = fakeGitHub();
    expect((await syncDriftIssue(args(gh, true))).action).toBe("opened");
    expect((await syncDriftIssue(args(gh, true))).action).toBe("updated");
    expect(gh.issues).toHaveLength(1);
    expect((await syncDriftIssue(args(gh, false))).action).toBe("closed");
    expect(gh.issues[0]!.state).toBe("closed");
    expect((await syncDriftIssue(args(gh, false))).action).toBe("none");
    // Drift again later: a new issue, the closed one stays closed.
    expect((await syncDriftIssue(args(gh, true))).action).toBe("opened");
    expect(gh.issues.filter((i) => i.state === "open")).toHaveLength(1);
  });

  it("keeps one issue per stack", async () => {
    const gh = fakeGitHub();
    await syncDriftIssue(args(gh, true));
    await syncDriftIssue({ ...args(gh, true), stack: "storage" });
    expect(gh.issues.map((i) => i.title)).toEqual([
      "Drift detected in stack network",
      "Drift detected in stack storage",
    ]);
  });
});
