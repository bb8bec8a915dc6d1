// Helpers for actions/github-script steps: sticky PR comments and one drift issue per stack.
// Plain CommonJS without require() so github-script can load it from the checked-out default branch
// and jest can unit-test it (tests/gitops/comments.test.ts). Every GitHub call goes through the
// `github` (octokit) object the caller passes in.
/* global module */
"use strict";

/** GitHub rejects comment and issue bodies over 65,536 characters; keep a margin for the footer. */
const MAX_BODY = 65536;
const MARGIN = 1000;

/** Stacks we post for. The list is ours, never read from an artifact (artifacts of fork runs are untrusted). */
const STACKS = ["network", "storage"];

const planMarker = (stack) => `<!-- homelab-plan:${stack} -->`;
const driftMarker = (stack) => `<!-- homelab-drift:${stack} -->`;
const previewMarker = (stack) => `<!-- homelab-preview-plan:${stack} -->`;

/**
 * Cuts `body` at a line boundary so the result (with the footer) stays under `limit`, closes any code
 * fence or <details> left open by the cut (otherwise the rest of the comment renders as code or stays
 * collapsed), and says where the full report is.
 */
function trimBody(body, { limit = MAX_BODY - MARGIN, logUrl } = {}) {
  if (body.length <= limit) return body;
  const footer =
    `\n\n> ⚠️ This report was trimmed to fit GitHub's comment size limit` +
    (logUrl ? `: the full report is in the [run log and job summary](${logUrl}).` : ".") +
    "\n";
  let cut = body.slice(0, Math.max(0, limit - footer.length - 200));
  const nl = cut.lastIndexOf("\n");
  if (nl > 0) cut = cut.slice(0, nl);
  const fences = (cut.match(/^```/gm) || []).length;
  if (fences % 2 === 1) cut += "\n```";
  const open = (cut.match(/<details[\s>]/g) || []).length - (cut.match(/<\/details>/g) || []).length;
  for (let i = 0; i < open; i++) cut += "\n\n</details>";
  return cut + footer;
}

/** Every comment of an issue or PR (the list endpoint pages at 100). */
async function listComments(github, { owner, repo, issue_number }) {
  return github.paginate(github.rest.issues.listComments, { owner, repo, issue_number, per_page: 100 });
}

/**
 * Creates or updates the one comment that starts with `marker`. Only comments written by a bot are
 * candidates, so a human quoting the marker can never have their comment overwritten.
 */
async function upsertComment(github, { owner, repo, issue_number, marker, body }) {
  if (!body.startsWith(marker)) body = `${marker}\n${body}`;
  const comments = await listComments(github, { owner, repo, issue_number });
  const mine = comments.find((c) => c.user && c.user.type === "Bot" && (c.body || "").startsWith(marker));
  if (mine) {
    await github.rest.issues.updateComment({ owner, repo, comment_id: mine.id, body });
    return { action: "updated", id: mine.id };
  }
  const { data } = await github.rest.issues.createComment({ owner, repo, issue_number, body });
  return { action: "created", id: data.id };
}

/**
 * The `workflow_run` half of checks.yml: posts the plan markdown that the pull_request run uploaded.
 * `files` maps artifact file names to contents. Everything in it came from a run of untrusted code, so:
 * the PR number must be digits and must belong to a PR whose head is the commit the run tested; the
 * stacks come from our own list; each body is forced to start with its stack's marker.
 */
async function postPlanComments({ github, context, core, files, run }) {
  const { owner, repo } = context.repo;
  const number = (files["pr-number"] || "").trim();
  if (!/^[0-9]{1,10}$/.test(number))
    throw new Error(`artifact pr-number is not a PR number: ${JSON.stringify(number)}`);
  const { data: pr } = await github.rest.pulls.get({ owner, repo, pull_number: Number(number) });
  if (pr.head.sha !== run.head_sha) {
    core.notice(`PR #${number} has moved on from ${run.head_sha}; a newer run will comment.`);
    return [];
  }
  const done = [];
  for (const stack of STACKS) {
    const md = files[`${stack}.md`];
    if (md === undefined) continue;
    const code = (files[`${stack}.exit`] || "").trim();
    let body = md.startsWith(planMarker(stack)) ? md : `${planMarker(stack)}\n${md}`;
    if (code !== "" && code !== "0" && code !== "1")
      body += `\n> ❌ The plan did not complete (exit ${code.replace(/[^0-9]/g, "")}): see the [run log](${run.html_url}).\n`;
    body = trimBody(body, { logUrl: run.html_url });
    const r = await upsertComment(github, {
      owner,
      repo,
      issue_number: pr.number,
      marker: planMarker(stack),
      body,
    });
    core.info(`${stack}: ${r.action} comment ${r.id} on #${pr.number}`);
    done.push({ stack, ...r });
  }
  return done;
}

/** The parts of the plan markdown between `<!-- section:<id> -->` markers, for the given ids. */
function extractSections(markdown, ids) {
  const out = [];
  for (const id of ids) {
    const start = markdown.indexOf(`<!-- section:${id} -->`);
    const endMarker = `<!-- /section:${id} -->`;
    const end = markdown.indexOf(endMarker, start);
    if (start >= 0 && end > start) out.push(markdown.slice(start, end + endMarker.length));
  }
  return out.join("\n\n");
}

/**
 * preview.yml: pulumi/actions posts (and edits in place) one comment per stack headed
 * "#### :tropical_drink: `preview` on homelab/<stack>". This appends the offline plan's reachability
 * and cost sections below our marker in that same comment, replacing what an earlier run appended.
 * If that comment cannot be found (the action changed its heading), it posts a sticky comment of ours.
 */
async function appendToPreviewComment({ github, context, core, stack, project, markdown, logUrl }) {
  const { owner, repo } = context.repo;
  const issue_number = context.payload.pull_request.number;
  const sections = extractSections(markdown, ["reachability", "cost"]);
  const summary = markdown.split("\n").slice(0, 4).join("\n");
  const extra = `${previewMarker(stack)}\n\n**Offline plan** (see the checks comment for the full report)\n\n${summary.replace(planMarker(stack), "").trim()}\n\n${sections}\n`;
  const heading = `#### :tropical_drink: \`preview\` on ${project}/${stack}`;
  const comments = await listComments(github, { owner, repo, issue_number });
  const theirs = comments.find((c) => c.user && c.user.type === "Bot" && (c.body || "").startsWith(heading));
  if (!theirs) {
    core.warning(`no pulumi preview comment for ${stack}; posting the plan sections on their own`);
    const body = trimBody(extra, { logUrl });
    return upsertComment(github, { owner, repo, issue_number, marker: previewMarker(stack), body });
  }
  const own = theirs.body.split(previewMarker(stack))[0].trimEnd();
  const room = MAX_BODY - MARGIN - own.length - 2;
  const body = `${own}\n\n${trimBody(extra, { limit: Math.max(room, 500), logUrl })}`;
  await github.rest.issues.updateComment({ owner, repo, comment_id: theirs.id, body });
  return { action: "updated", id: theirs.id };
}

/**
 * drift.yml: one open issue per stack, found by its marker (labels can be renamed, titles edited).
 * Drift: open it, or add a comment to the open one with the new output. Clean: close it with a note.
 */
async function syncDriftIssue({ github, context, core, stack, drifted, output, runUrl, label = "drift" }) {
  const { owner, repo } = context.repo;
  const marker = driftMarker(stack);
  const open = await github.paginate(github.rest.issues.listForRepo, {
    owner,
    repo,
    state: "open",
    labels: label,
    per_page: 100,
  });
  const issue = open.find((i) => !i.pull_request && (i.body || "").startsWith(marker));
  const details = trimBody(
    `Drift found by [this run](${runUrl}) for stack \`${stack}\`:\n\n<details><summary>pulumi output</summary>\n\n\`\`\`\n${output}\n\`\`\`\n\n</details>\n`,
    { limit: 60000, logUrl: runUrl },
  );
  if (drifted && !issue) {
    const body = `${marker}\nThe deployed \`${stack}\` stack no longer matches its last deployment (someone changed it outside Pulumi, or a resource changed itself).\n\nFix: make the change in code, or \`pulumi refresh --stack ${stack}\` to accept it, or \`pulumi up --stack ${stack}\` to revert it. This issue closes itself on the next clean check.\n\n${details}`;
    const { data } = await github.rest.issues.create({
      owner,
      repo,
      title: `Drift detected in stack ${stack}`,
      body,
      labels: [label],
    });
    core.info(`${stack}: opened issue #${data.number}`);
    return { action: "opened", number: data.number };
  }
  if (drifted && issue) {
    await github.rest.issues.createComment({ owner, repo, issue_number: issue.number, body: details });
    core.info(`${stack}: updated issue #${issue.number}`);
    return { action: "updated", number: issue.number };
  }
  if (!drifted && issue) {
    await github.rest.issues.createComment({
      owner,
      repo,
      issue_number: issue.number,
      body: `No drift in \`${stack}\` any more ([run](${runUrl})): closing.`,
    });
    await github.rest.issues.update({
      owner,
      repo,
      issue_number: issue.number,
      state: "closed",
      state_reason: "completed",
    });
    core.info(`${stack}: closed issue #${issue.number}`);
    return { action: "closed", number: issue.number };
  }
  return { action: "none" };
}

module.exports = {
  MAX_BODY,
  STACKS,
  planMarker,
  driftMarker,
  trimBody,
  upsertComment,
  postPlanComments,
  extractSections,
  appendToPreviewComment,
  syncDriftIssue,
};
