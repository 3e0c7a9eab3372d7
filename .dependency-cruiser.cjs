/**
 * The architecture as rules (docs/design.md §15). `npm test` runs them (test/unit/architecture.test.ts); a
 * forbidden import fails the suite with the rule's name and the reason below.
 *
 * Programs: src/camera (the daemon), src/dock (the dock station), src/cli (the `bodycam` command, which may start
 * either). Shared code any program may use: src/lib, src/age, src/evidence, src/protocol, src/hal, src/config, src/store.
 */
const COMPONENTS = '(recording|feedback|inputs|audit|control|health|sync|service)';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment:
        'An import cycle makes start-up order and testing in isolation impossible; break it with an event or a port.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'shared-imports-no-program',
      comment:
        'Shared code (lib, age, evidence, protocol, hal, config, store) is used by the camera, the dock and custodian tools alike; it must not depend on any of them.',
      severity: 'error',
      from: { path: '^src/(lib|age|evidence|protocol|hal|config|store|vault)/' },
      to: { path: '^src/(camera|dock|cli)/' },
    },
    {
      name: 'programs-are-separate',
      comment:
        'The camera and the dock are separate programs: a verifier or a dock must never load camera code, nor the camera dock code. Share through src/evidence, src/age or src/lib.',
      severity: 'error',
      from: { path: '^src/(camera|dock)/' },
      to: { path: '^src/(camera|dock|cli)/', pathNot: '^src/$1/' },
    },
    {
      name: 'lib-is-the-floor',
      comment: 'src/lib (errors, logger, fs, event bus) imports nothing else from src.',
      severity: 'error',
      from: { path: '^src/lib/' },
      to: { path: '^src/', pathNot: '^src/lib/' },
    },
    {
      name: 'age-is-self-contained',
      comment: 'The age format is shared by camera, dock and custodian tools; it needs only src/lib.',
      severity: 'error',
      from: { path: '^src/age/' },
      to: { path: '^src/', pathNot: '^src/(age|lib)/' },
    },
    {
      name: 'evidence-needs-only-age-and-lib',
      comment:
        'The evidence format (manifests, chains, verification, export) is shared; it builds on src/age and src/lib, and runs tools through the process port only.',
      severity: 'error',
      from: { path: '^src/evidence/' },
      to: { path: '^src/', pathNot: '^src/(evidence|age|lib)/|^src/hal/process/port\\.ts$' },
    },
    {
      name: 'protocol-needs-only-evidence-and-lib',
      comment:
        'The dock sync protocol is spoken by the camera and the dock alike; it builds on src/evidence and src/lib only, and its transports keep time through the clock port.',
      severity: 'error',
      from: { path: '^src/protocol/' },
      to: { path: '^src/', pathNot: '^src/(protocol|evidence|lib)/|^src/hal/clock/port\\.ts$' },
    },
    {
      name: 'mqtt-only-in-its-transport',
      comment:
        'MQTT is one transport of the sync protocol: src/protocol/transport/mqtt.ts holds the client and its options (TLS, MQTT 5, session, reconnect). Everything else is handed a SyncTransport (src/protocol/transport/port.ts) and never builds a client.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/protocol/transport/mqtt\\.ts$' },
      to: { path: '(^|/)node_modules/mqtt/' },
    },
    {
      name: 'pg-only-in-its-driver',
      comment:
        "PostgreSQL is one driver of the vault index's SQL port: src/vault/index/postgres.ts holds the pool and its errors; everything else is handed a SqlClient (src/vault/index/sql.ts).",
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/vault/index/postgres\\.ts$' },
      to: { path: '(^|/)node_modules/pg/' },
    },
    {
      name: 'hal-needs-only-lib',
      comment: 'Ports and drivers (GPIO, audio, clock, processes) know nothing of configuration or of the programs.',
      severity: 'error',
      from: { path: '^src/hal/' },
      to: { path: '^src/', pathNot: '^src/(hal|lib)/' },
    },
    {
      name: 'config-needs-only-lib',
      comment:
        'Configuration (schema kit, schema, board profiles) is plain data; it imports only src/lib and the names of the evidence layout (its defaults name files there).',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^src/', pathNot: '^src/(config|lib)/|^src/evidence/paths\\.ts$' },
    },
    {
      name: 'evidence-layout-is-names',
      comment:
        'src/evidence/paths.ts names the evidence layout for every program and the configuration; it imports nothing from src, so importing it brings in nothing else.',
      severity: 'error',
      from: { path: '^src/evidence/paths\\.ts$' },
      to: { path: '^src/' },
    },
    {
      name: 'store-needs-only-lib',
      comment:
        'The object store port and its drivers (S3, in-memory) know S3, not evidence: the dock and the custody tools put evidence into it.',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^src/', pathNot: '^src/(store|lib)/' },
    },
    {
      name: 'vault-is-a-custodian-tool',
      comment:
        'The vault (legal hold, expiry, the custody log) works on the object store with the evidence format: never camera or dock code; the CLI drives it.',
      severity: 'error',
      from: { path: '^src/vault/' },
      to: { path: '^src/', pathNot: '^src/(vault|store|evidence|age|lib)/' },
    },
    {
      name: 'only-the-cli-starts-programs',
      comment: 'A composition root is started by the CLI (or a benchmark script), never imported by the code it wires.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/(camera|dock)/main\\.ts$' },
    },
    {
      name: 'camera-components-talk-through-the-bus',
      comment: `Camera components (${COMPONENTS}) publish and subscribe to events (src/camera/events.ts); importing one another would tie them together again.`,
      severity: 'error',
      from: { path: `^src/camera/${COMPONENTS}/` },
      to: { path: `^src/camera/${COMPONENTS}/`, pathNot: '^src/camera/$1/' },
    },
    {
      name: 'camera-media-is-a-lower-layer',
      comment: 'Capture, parser and ring produce fragments; they know nothing of recording, storage or the bus.',
      severity: 'error',
      from: { path: '^src/camera/media/' },
      to: { path: '^src/camera/', pathNot: '^src/camera/media/' },
    },
    {
      name: 'camera-storage-is-a-lower-layer',
      comment: 'The index repositories are used by components; they never call back up into them.',
      severity: 'error',
      from: { path: '^src/camera/storage/' },
      to: { path: '^src/camera/', pathNot: '^src/camera/storage/' },
    },
    {
      name: 'camera-events-is-vocabulary',
      comment: 'src/camera/events.ts names the events and their payloads; it may only use the media types.',
      severity: 'error',
      from: { path: '^src/camera/events\\.ts$' },
      to: { path: '^src/camera/', pathNot: '^src/camera/(events\\.ts|media/types\\.ts)$' },
    },
    {
      name: 'product-code-imports-no-tests',
      comment: 'Tests, fixtures and scripts use the product, never the other way round.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|scripts)/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing is a typo or a missing dependency.',
      severity: 'error',
      from: {},
      // @iiot2k/gpiox is an optional dependency with arm-only binaries: absent on x86, loaded lazily on the device.
      to: { couldNotResolve: true, pathNot: '^@iiot2k/gpiox$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // node_modules stays in the graph (unfollowed), so a rule can name a package: mqtt-only-in-its-transport.
    exclude: { path: '^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.d.ts', '.json'] },
  },
};
