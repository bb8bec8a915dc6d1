import {
  FACT_TYPES,
  type BorgJobFacts,
  type ComposeStackFacts,
  type DatasetFacts,
  type IngressFacts,
  type MonitoringFacts,
  type ServiceFacts,
} from "../../model/facts";
import { graphPolicies } from "../../policies/rules/graph";
import { runPolicies, type GraphResource } from "../../policies/run";
import { res } from "./graph";

const fact = (type: string, name: string, facts: object): GraphResource =>
  res(type, name, facts as Record<string, unknown>);
const svc = (name: string, over: Partial<ServiceFacts> = {}): ServiceFacts => ({
  name,
  image: "x@sha256:" + "0".repeat(64),
  privileged: false,
  capDrop: ["ALL"],
  capAdd: [],
  noNewPrivileges: true,
  dockerSocket: false,
  volumes: [],
  devices: [],
  tmpfs: [],
  ports: [],
  healthcheck: true,
  memory: "1G",
  networks: [],
  alwaysOn: false,
  user: "1000:1000",
  ...over,
});

function storageGraph(
  edit: {
    datasets?: DatasetFacts;
    jobs?: BorgJobFacts;
    stacks?: ComposeStackFacts[];
    monitoring?: MonitoringFacts;
  } = {},
): GraphResource[] {
  const datasets: DatasetFacts = edit.datasets ?? {
    node: "storage",
    datasets: [
      { name: "tank/apps/immich", backupClass: "critical" },
      { name: "tank/apps/cache", backupClass: "none", reason: "cache" },
    ],
  };
  const jobs: BorgJobFacts = edit.jobs ?? {
    jobs: [
      {
        dataset: "tank/apps/immich",
        node: "storage",
        backupClass: "critical",
        schedule: "daily",
        verify: true,
        restoreDrill: true,
      },
    ],
  };
  const stacks = edit.stacks ?? [
    {
      node: "storage",
      project: "immich",
      services: [
        svc("immich-server", {
          volumes: [
            { dataset: "tank/apps/immich", source: "/tank/apps/immich", target: "/data", readOnly: false },
          ],
          metrics: { port: 8081, path: "/metrics" },
        }),
      ],
    },
  ];
  const monitoring: MonitoringFacts = edit.monitoring ?? {
    targets: [{ job: "immich", target: "10.0.20.10:8081", path: "/metrics" }],
    expected: [{ service: "immich-server", target: "10.0.20.10:8081", path: "/metrics" }],
  };
  return [
    fact(FACT_TYPES.datasets, "datasets", datasets),
    fact(FACT_TYPES.borgJobs, "borg", jobs),
    fact(FACT_TYPES.monitoring, "monitoring", monitoring),
    ...stacks.map((s) => fact(FACT_TYPES.composeStack, s.project, s)),
  ];
}

const run = async (graph: GraphResource[], stack: "network" | "storage" = "storage") =>
  (await runPolicies(graphPolicies, graph, { stack })).violations.map((v) => `${v.policy}: ${v.message}`);

describe("graph policies", () => {
  it("pass a storage stack whose data is backed up, verified and drilled, and whose metrics are scraped", async () => {
    expect(await run(storageGraph())).toEqual([]);
  });

  it("backup-coverage fails a dataset without a job, an unverified job, and a writable bind mount", async () => {
    expect(await run(storageGraph({ jobs: { jobs: [] } }))).toEqual([
      "backup-coverage: dataset tank/apps/immich (critical) has no Borg backup job",
    ]);
    expect(
      await run(
        storageGraph({
          jobs: {
            jobs: [
              {
                dataset: "tank/apps/immich",
                node: "storage",
                backupClass: "critical",
                schedule: "daily",
                verify: false,
                restoreDrill: true,
              },
            ],
          },
        }),
      ),
    ).toEqual(["backup-coverage: dataset tank/apps/immich is backed up but never verified"]);
    const bind = [
      {
        node: "storage" as const,
        project: "x",
        services: [
          svc("app", {
            volumes: [{ hostPath: "/srv/app", source: "/srv/app", target: "/data", readOnly: false }],
          }),
        ],
      },
    ];
    expect(await run(storageGraph({ stacks: bind }))).toEqual([
      "backup-coverage: x/app writes to host path /srv/app, which no backup covers; mount a dataset instead",
    ]);
  });

  it("always-on-independent fails an alwaysOn service on the storage node", async () => {
    const stacks = [
      { node: "storage" as const, project: "home", services: [svc("home-assistant", { alwaysOn: true })] },
    ];
    expect(await run(storageGraph({ stacks }))).toEqual([
      "always-on-independent: home/home-assistant is alwaysOn but runs on the storage node",
    ]);
    const onNetwork = [
      {
        node: "network" as const,
        project: "home",
        services: [
          svc("home-assistant", {
            alwaysOn: true,
            volumes: [
              { dataset: "fast/apps/ha", source: "/fast/apps/ha", target: "/config", readOnly: false },
            ],
          }),
        ],
      },
    ];
    expect(await run(storageGraph({ stacks: onNetwork }))).toEqual([]);
  });

  it("metrics-scraped fails a service with metrics that no job scrapes", async () => {
    const monitoring = {
      targets: [],
      expected: [{ service: "immich-server", target: "10.0.20.10:8081", path: "/metrics" }],
    };
    expect(await run(storageGraph({ monitoring }))).toEqual([
      "metrics-scraped: immich-server exposes 10.0.20.10:8081/metrics but no scrape job covers it",
    ]);
  });

  it("ingress-tls-sso passes gated and public routes and fails an ungated or plaintext one", async () => {
    const ingress = (routes: IngressFacts["routes"]) => [fact(FACT_TYPES.ingress, "ingress", { routes })];
    expect(
      await run(
        ingress([
          { host: "a.x.net", service: "a", public: false, tls: true, sso: true },
          { host: "auth.x.net", service: "authelia", public: true, tls: true, sso: false },
        ]),
        "network",
      ),
    ).toEqual([]);
    expect(
      await run(
        ingress([{ host: "a.x.net", service: "a", public: false, tls: false, sso: false }]),
        "network",
      ),
    ).toEqual([
      "ingress-tls-sso: route a.x.net does not terminate TLS",
      "ingress-tls-sso: route a.x.net is neither SSO-gated nor marked public",
    ]);
  });
});
