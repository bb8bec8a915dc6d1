// npm's arborist as tests/support/environment.ts loaded it for this worker (see there).
export = (globalThis as unknown as Record<string, Record<string, unknown>>)["__homelabSharedModules"]![
  "@npmcli/arborist"
];
