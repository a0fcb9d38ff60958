// Headlamp's plugin lib as stand-ins (see src/testing/headlampLib.tsx).
vi.mock('@kinvolk/headlamp-plugin/lib', () => vi.importActual('../testing/headlampLib'));

import {
  applyPreviewBody,
  defaultPortForwardName,
  isValidName,
  isValidTargetPort,
  newPortForward,
  retryBody,
  stateBody,
} from '../actions/patches';

test('stop and start are merge patches of spec.state', () => {
  expect(stateBody('Stopped')).toEqual({ spec: { state: 'Stopped' } });
  expect(stateBody('Running')).toEqual({ spec: { state: 'Running' } });
});

test('retry now sets the requestedAt annotation to the time', () => {
  const at = new Date('2025-03-04T05:06:07.089Z');
  expect(retryBody(at)).toEqual({
    metadata: {
      annotations: { 'reconcile.headlamp-operator.dev/requestedAt': '2025-03-04T05:06:07.089Z' },
    },
  });
});

test('a new value each time', () => {
  const a = retryBody(new Date(1000)).metadata.annotations;
  const b = retryBody(new Date(2000)).metadata.annotations;
  expect(a).not.toEqual(b);
});

test('apply a preview sets dryRun false', () => {
  expect(applyPreviewBody()).toEqual({ spec: { dryRun: false } });
});

test('a PortForward for a pod, numeric port', () => {
  expect(
    newPortForward({
      cluster: 'kind-dev',
      namespace: 'monitoring',
      name: 'redis-6379',
      targetKind: 'Pod',
      targetName: 'redis-0',
      targetNamespace: 'monitoring',
      targetPort: ' 6379 ',
    })
  ).toEqual({
    apiVersion: 'headlamp-operator.dev/v1alpha1',
    kind: 'PortForward',
    metadata: { name: 'redis-6379', namespace: 'monitoring' },
    spec: { cluster: 'kind-dev', pod: 'redis-0', namespace: 'monitoring', targetPort: 6379 },
  });
});

test('a PortForward for a service, named port, with a token Secret', () => {
  const pf = newPortForward({
    cluster: 'prod',
    namespace: 'demo',
    name: 'grafana',
    targetKind: 'Service',
    targetName: 'grafana',
    targetNamespace: 'monitoring',
    targetPort: 'http',
    tokenSecretName: 'sandbox-token',
  });
  expect(pf.spec).toEqual({
    cluster: 'prod',
    service: 'grafana',
    namespace: 'monitoring',
    targetPort: 'http',
    credentials: { tokenSecretRef: { name: 'sandbox-token' } },
  });
  expect(pf.spec.pod).toBeUndefined();
});

test('names and ports are checked as the API server would', () => {
  expect(isValidName('grafana-http')).toBe(true);
  expect(isValidName('Grafana')).toBe(false);
  expect(isValidName('')).toBe(false);
  expect(isValidTargetPort('8080')).toBe(true);
  expect(isValidTargetPort('0')).toBe(false);
  expect(isValidTargetPort('70000')).toBe(false);
  expect(isValidTargetPort('http')).toBe(true);
  expect(isValidTargetPort('a-name-longer-than-15')).toBe(false);
  expect(defaultPortForwardName('Grafana-0', 'http')).toBe('grafana-0-http');
});
