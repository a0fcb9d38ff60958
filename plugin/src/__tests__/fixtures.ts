/*
 * Resource bodies as the API server returns them once the operator has reconciled them (the samples
 * of manifests/samples/ as the sandbox shows them).
 */
export const grafanaForward = {
  apiVersion: 'headlamp-operator.dev/v1alpha1',
  kind: 'PortForward',
  metadata: {
    name: 'grafana',
    namespace: 'demo',
    uid: '8d0c3d4e-0000-4000-8000-000000000001',
    generation: 1,
    resourceVersion: '42',
    creationTimestamp: '2025-01-01T00:00:00Z',
  },
  spec: {
    cluster: 'kind-dev',
    service: 'grafana',
    namespace: 'monitoring',
    targetPort: 'http',
    port: 18080,
    credentials: { tokenSecretRef: { name: 'sandbox-token' } },
  },
  status: {
    phase: 'Running',
    reason: 'Started',
    message: 'forwarding localhost:18080 -> monitoring/grafana-0:3000',
    id: '8d0c3d4e-0000-4000-8000-000000000001',
    port: 18080,
    pod: 'grafana-0',
    observedGeneration: 1,
    conditions: [
      { type: 'Ready', status: 'True', reason: 'Started' },
      { type: 'Reconciling', status: 'False', reason: 'Done' },
      { type: 'Stalled', status: 'False', reason: 'Healthy' },
    ],
  },
};

export const failedForward = {
  apiVersion: 'headlamp-operator.dev/v1alpha1',
  kind: 'PortForward',
  metadata: { name: 'redis', namespace: 'demo', uid: 'uid-redis', generation: 2 },
  spec: {
    cluster: 'kind-dev',
    pod: 'redis-0',
    namespace: 'monitoring',
    targetPort: 6379,
    deletionPolicy: 'Stop',
  },
  status: {
    phase: 'Failed',
    reason: 'NotFound',
    message: 'pod monitoring/redis-0 does not exist: check spec.pod and spec.namespace',
    observedGeneration: 2,
    conditions: [{ type: 'Ready', status: 'False', reason: 'NotFound' }],
  },
};

export const headlampForwards = [
  {
    id: '8d0c3d4e-0000-4000-8000-000000000001',
    pod: 'grafana-0',
    service: 'grafana',
    serviceNamespace: 'monitoring',
    namespace: 'monitoring',
    cluster: 'kind-dev',
    port: '18080',
    targetPort: '3000',
    status: 'Running',
  },
  {
    id: 'someone-elses',
    pod: 'redis-0',
    service: '',
    serviceNamespace: '',
    namespace: 'monitoring',
    cluster: 'kind-dev',
    port: '40000',
    targetPort: '6379',
    status: 'Running',
  },
];

export const previewPatch = {
  apiVersion: 'headlamp-operator.dev/v1alpha1',
  kind: 'ResourcePatch',
  metadata: { name: 'web-preview', namespace: 'demo', uid: 'uid-preview', generation: 1 },
  spec: {
    cluster: 'kind-dev',
    target: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'shop' },
    patchType: 'merge',
    patch: { spec: { replicas: 5 }, metadata: { labels: { tier: 'frontend' } } },
    dryRun: true,
  },
  status: {
    phase: 'Previewed',
    reason: 'Previewed',
    message: 'would change 2 fields of apps/v1 Deployment shop/web; set dryRun: false to apply it',
    observedGeneration: 1,
    conditions: [{ type: 'Ready', status: 'True', reason: 'Previewed' }],
    preview: [
      { path: '/metadata/labels/tier', after: '"frontend"' },
      { path: '/spec/replicas', before: '3', after: '5' },
    ],
  },
};

export const secretPatch = {
  apiVersion: 'headlamp-operator.dev/v1alpha1',
  kind: 'ResourcePatch',
  metadata: { name: 'rotate-password', namespace: 'demo', uid: 'uid-secret', generation: 1 },
  spec: {
    cluster: 'kind-dev',
    target: { apiVersion: 'v1', kind: 'Secret', name: 'db' },
    patchType: 'merge',
    patch: { stringData: { password: 'hunter2' } },
    revertOnDelete: true,
    reapplyInterval: '5m',
  },
  status: {
    phase: 'Applied',
    reason: 'Applied',
    message: 'patched v1 Secret demo/db; drift corrected (2 so far)',
    observedGeneration: 1,
    driftCorrections: 2,
    lastDriftTime: '2025-01-02T03:04:05Z',
    conditions: [{ type: 'Ready', status: 'True', reason: 'Applied' }],
    revert: {
      complete: true,
      secretName: 'rotate-password-revert-x7k2p',
      target: { apiVersion: 'v1', kind: 'Secret', namespace: 'demo', name: 'db', uid: 'u' },
      // A status that (wrongly) held a value: the plugin must still not show it.
      paths: [
        { path: '/data/password', before: '"czNjcjN0"', applied: 'sha256:abc' },
        { path: '/data/user' },
      ],
    },
  },
};

export const revertDeployment = {
  apiVersion: 'headlamp-operator.dev/v1alpha1',
  kind: 'ResourcePatch',
  metadata: { name: 'web-load-test', namespace: 'demo', uid: 'uid-rev', generation: 1 },
  spec: {
    cluster: 'kind-dev',
    target: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'shop' },
    patch: { spec: { replicas: 10 } },
    revertOnDelete: true,
  },
  status: {
    phase: 'Applied',
    reason: 'Applied',
    message: 'patched apps/v1 Deployment shop/web',
    revert: {
      complete: true,
      paths: [
        { path: '/metadata/labels/example.com~1load-test', applied: 'sha256:c9f2' },
        { path: '/spec/replicas', before: '3', applied: 'sha256:4e07' },
      ],
    },
  },
};
