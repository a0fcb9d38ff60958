/*
 * Bodies as the real API server returned them (kube-apiserver v1.36.3 + etcd 3.6.16 + kwok 0.8.0 of
 * `make cluster CLUSTER_ARGS=--product`, the operator running, Headlamp's backend emulated): the samples of
 * manifests/samples/ with `cluster: real`, read with `kubectl get --raw` after the operator had reconciled
 * them, a drift made by hand on the Deployment and the Secret, and grafana-stopped run and stopped again.
 * Only the stories use them (src/stories/*.stories.tsx): nothing here is part of the plugin's build.
 */

/** GET /apis/headlamp-operator.dev/v1alpha1/portforwards */
export const portForwardList = {
  apiVersion: 'headlamp-operator.dev/v1alpha1',
  items: [
    {
      apiVersion: 'headlamp-operator.dev/v1alpha1',
      kind: 'PortForward',
      metadata: {
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration':
            '{"apiVersion":"headlamp-operator.dev/v1alpha1","kind":"PortForward","metadata":{"annotations":{},"name":"grafana","namespace":"demo"},"spec":{"cluster":"real","credentials":{"tokenSecretRef":{"name":"sandbox-token"}},"namespace":"monitoring","port":18080,"service":"grafana","targetPort":"http"}}\n',
        },
        creationTimestamp: '2026-12-07T15:45:45Z',
        finalizers: ['headlamp-operator.dev/finalizer'],
        generation: 1,
        managedFields: [
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:metadata': {
                'f:finalizers': {
                  '.': {},
                  'v:"headlamp-operator.dev/finalizer"': {},
                },
              },
            },
            manager: 'Python',
            operation: 'Update',
            time: '2026-12-07T15:45:45Z',
          },
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:status': {
                '.': {},
                'f:conditions': {
                  '.': {},
                  'k:{"type":"Ready"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                  'k:{"type":"Reconciling"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                  'k:{"type":"Stalled"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                },
                'f:id': {},
                'f:kopf': {
                  '.': {},
                  'f:last-handled-configuration': {},
                },
                'f:lastSyncTime': {},
                'f:message': {},
                'f:observedGeneration': {},
                'f:phase': {},
                'f:pod': {},
                'f:port': {},
                'f:reason': {},
              },
            },
            manager: 'kopf',
            operation: 'Update',
            subresource: 'status',
            time: '2026-12-07T15:45:45Z',
          },
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:metadata': {
                'f:annotations': {
                  '.': {},
                  'f:kubectl.kubernetes.io/last-applied-configuration': {},
                },
              },
              'f:spec': {
                '.': {},
                'f:cluster': {},
                'f:credentials': {
                  '.': {},
                  'f:tokenSecretRef': {
                    '.': {},
                    'f:key': {},
                    'f:name': {},
                  },
                },
                'f:deletionPolicy': {},
                'f:namespace': {},
                'f:port': {},
                'f:service': {},
                'f:state': {},
                'f:targetPort': {},
              },
            },
            manager: 'kubectl-client-side-apply',
            operation: 'Update',
            time: '2026-12-07T15:45:45Z',
          },
        ],
        name: 'grafana',
        namespace: 'demo',
        resourceVersion: '438',
        uid: '0932cbe6-5145-4ebe-9208-abea36e49b9c',
      },
      spec: {
        cluster: 'real',
        credentials: {
          tokenSecretRef: {
            key: 'token',
            name: 'sandbox-token',
          },
        },
        deletionPolicy: 'Delete',
        namespace: 'monitoring',
        port: 18080,
        service: 'grafana',
        state: 'Running',
        targetPort: 'http',
      },
      status: {
        conditions: [
          {
            lastTransitionTime: '2026-12-07T15:45:45Z',
            message: 'forwarding localhost:18080 -> monitoring/grafana-0:3000',
            observedGeneration: 1,
            reason: 'Started',
            status: 'True',
            type: 'Ready',
          },
          {
            lastTransitionTime: '2026-12-07T15:45:45Z',
            message: '',
            observedGeneration: 1,
            reason: 'Done',
            status: 'False',
            type: 'Reconciling',
          },
          {
            lastTransitionTime: '2026-12-07T15:45:45Z',
            message: '',
            observedGeneration: 1,
            reason: 'Healthy',
            status: 'False',
            type: 'Stalled',
          },
        ],
        id: '0932cbe6-5145-4ebe-9208-abea36e49b9c',
        kopf: {
          'last-handled-configuration':
            '{"spec":{"sha256":"528a1e8fe34eddfbedf62a6e246b955cb466899e7a06c565b5a3b2d626acbd23"}}',
        },
        lastSyncTime: '2026-12-07T15:45:45Z',
        message: 'forwarding localhost:18080 -> monitoring/grafana-0:3000',
        observedGeneration: 1,
        phase: 'Running',
        pod: 'grafana-0',
        port: '18080',
        reason: 'Started',
      },
    },
    {
      apiVersion: 'headlamp-operator.dev/v1alpha1',
      kind: 'PortForward',
      metadata: {
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration':
            '{"apiVersion":"headlamp-operator.dev/v1alpha1","kind":"PortForward","metadata":{"annotations":{},"name":"grafana-stopped","namespace":"demo"},"spec":{"cluster":"real","credentials":{"tokenSecretRef":{"name":"sandbox-token"}},"namespace":"monitoring","pod":"grafana-0","state":"Stopped","targetPort":3000}}\n',
        },
        creationTimestamp: '2026-12-07T15:45:45Z',
        finalizers: ['headlamp-operator.dev/finalizer'],
        generation: 3,
        managedFields: [
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:metadata': {
                'f:finalizers': {
                  '.': {},
                  'v:"headlamp-operator.dev/finalizer"': {},
                },
              },
            },
            manager: 'Python',
            operation: 'Update',
            time: '2026-12-07T15:45:45Z',
          },
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:metadata': {
                'f:annotations': {
                  '.': {},
                  'f:kubectl.kubernetes.io/last-applied-configuration': {},
                },
              },
              'f:spec': {
                '.': {},
                'f:cluster': {},
                'f:credentials': {
                  '.': {},
                  'f:tokenSecretRef': {
                    '.': {},
                    'f:key': {},
                    'f:name': {},
                  },
                },
                'f:deletionPolicy': {},
                'f:namespace': {},
                'f:pod': {},
                'f:targetPort': {},
              },
            },
            manager: 'kubectl-client-side-apply',
            operation: 'Update',
            time: '2026-12-07T15:45:45Z',
          },
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:status': {
                '.': {},
                'f:conditions': {
                  '.': {},
                  'k:{"type":"Ready"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                  'k:{"type":"Reconciling"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                  'k:{"type":"Stalled"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                },
                'f:id': {},
                'f:kopf': {
                  '.': {},
                  'f:last-handled-configuration': {},
                },
                'f:lastSyncTime': {},
                'f:message': {},
                'f:observedGeneration': {},
                'f:phase': {},
                'f:pod': {},
                'f:port': {},
                'f:reason': {},
              },
            },
            manager: 'kopf',
            operation: 'Update',
            subresource: 'status',
            time: '2026-12-07T15:48:15Z',
          },
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:spec': {
                'f:state': {},
              },
            },
            manager: 'kubectl-patch',
            operation: 'Update',
            time: '2026-12-07T15:48:15Z',
          },
        ],
        name: 'grafana-stopped',
        namespace: 'demo',
        resourceVersion: '667',
        uid: '34e0ee37-e86b-4f11-bc88-51ccb7c3a56f',
      },
      spec: {
        cluster: 'real',
        credentials: {
          tokenSecretRef: {
            key: 'token',
            name: 'sandbox-token',
          },
        },
        deletionPolicy: 'Delete',
        namespace: 'monitoring',
        pod: 'grafana-0',
        state: 'Stopped',
        targetPort: 3000,
      },
      status: {
        conditions: [
          {
            lastTransitionTime: '2026-12-07T15:45:45Z',
            message: 'forward 34e0ee37-e86b-4f11-bc88-51ccb7c3a56f is stopped',
            observedGeneration: 3,
            reason: 'Stopped',
            status: 'True',
            type: 'Ready',
          },
          {
            lastTransitionTime: '2026-12-07T15:45:45Z',
            message: '',
            observedGeneration: 3,
            reason: 'Done',
            status: 'False',
            type: 'Reconciling',
          },
          {
            lastTransitionTime: '2026-12-07T15:45:45Z',
            message: '',
            observedGeneration: 3,
            reason: 'Healthy',
            status: 'False',
            type: 'Stalled',
          },
        ],
        id: '34e0ee37-e86b-4f11-bc88-51ccb7c3a56f',
        kopf: {
          'last-handled-configuration':
            '{"spec":{"sha256":"cf720b9453df03aa40f41cb44d6c48b988d56b62a0d2d34120d922e09d4deb77"}}',
        },
        lastSyncTime: '2026-12-07T15:48:15Z',
        message: 'forward 34e0ee37-e86b-4f11-bc88-51ccb7c3a56f is stopped',
        observedGeneration: 3,
        phase: 'Stopped',
        pod: 'grafana-0',
        port: '32903',
        reason: 'Stopped',
      },
    },
    {
      apiVersion: 'headlamp-operator.dev/v1alpha1',
      kind: 'PortForward',
      metadata: {
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration':
            '{"apiVersion":"headlamp-operator.dev/v1alpha1","kind":"PortForward","metadata":{"annotations":{},"name":"redis","namespace":"demo"},"spec":{"cluster":"real","credentials":{"tokenSecretRef":{"key":"token","name":"sandbox-token"}},"namespace":"monitoring","pod":"redis-0","targetPort":6379}}\n',
        },
        creationTimestamp: '2026-12-07T15:45:45Z',
        finalizers: ['headlamp-operator.dev/finalizer'],
        generation: 1,
        managedFields: [
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:metadata': {
                'f:finalizers': {
                  '.': {},
                  'v:"headlamp-operator.dev/finalizer"': {},
                },
              },
            },
            manager: 'Python',
            operation: 'Update',
            time: '2026-12-07T15:45:45Z',
          },
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:status': {
                '.': {},
                'f:conditions': {
                  '.': {},
                  'k:{"type":"Ready"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                  'k:{"type":"Reconciling"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                  'k:{"type":"Stalled"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                },
                'f:kopf': {
                  '.': {},
                  'f:last-handled-configuration': {},
                },
                'f:lastSyncTime': {},
                'f:message': {},
                'f:observedGeneration': {},
                'f:phase': {},
                'f:reason': {},
              },
            },
            manager: 'kopf',
            operation: 'Update',
            subresource: 'status',
            time: '2026-12-07T15:45:45Z',
          },
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:metadata': {
                'f:annotations': {
                  '.': {},
                  'f:kubectl.kubernetes.io/last-applied-configuration': {},
                },
              },
              'f:spec': {
                '.': {},
                'f:cluster': {},
                'f:credentials': {
                  '.': {},
                  'f:tokenSecretRef': {
                    '.': {},
                    'f:key': {},
                    'f:name': {},
                  },
                },
                'f:deletionPolicy': {},
                'f:namespace': {},
                'f:pod': {},
                'f:state': {},
                'f:targetPort': {},
              },
            },
            manager: 'kubectl-client-side-apply',
            operation: 'Update',
            time: '2026-12-07T15:45:45Z',
          },
        ],
        name: 'redis',
        namespace: 'demo',
        resourceVersion: '437',
        uid: 'd6a1db5f-942f-40f8-80cf-f738ce898b2c',
      },
      spec: {
        cluster: 'real',
        credentials: {
          tokenSecretRef: {
            key: 'token',
            name: 'sandbox-token',
          },
        },
        deletionPolicy: 'Delete',
        namespace: 'monitoring',
        pod: 'redis-0',
        state: 'Running',
        targetPort: 6379,
      },
      status: {
        conditions: [
          {
            lastTransitionTime: '2026-12-07T15:45:45Z',
            message:
              'pod monitoring/redis-0 does not exist: check spec.pod and spec.namespace [Internal Server Error - error upgrading connection: unable to upgrade connection: pods "redis-0" not found]',
            observedGeneration: 1,
            reason: 'NotFound',
            status: 'False',
            type: 'Ready',
          },
          {
            lastTransitionTime: '2026-12-07T15:45:45Z',
            message: '',
            observedGeneration: 1,
            reason: 'Done',
            status: 'False',
            type: 'Reconciling',
          },
          {
            lastTransitionTime: '2026-12-07T15:45:45Z',
            message:
              'pod monitoring/redis-0 does not exist: check spec.pod and spec.namespace [Internal Server Error - error upgrading connection: unable to upgrade connection: pods "redis-0" not found]',
            observedGeneration: 1,
            reason: 'NotFound',
            status: 'True',
            type: 'Stalled',
          },
        ],
        kopf: {
          'last-handled-configuration':
            '{"spec":{"sha256":"b9e064ea9bd95ed54e376fba71c937f00f879efe9353d2cc6e21c96a111225cd"}}',
        },
        lastSyncTime: '2026-12-07T15:45:45Z',
        message:
          'pod monitoring/redis-0 does not exist: check spec.pod and spec.namespace [Internal Server Error - error upgrading connection: unable to upgrade connection: pods "redis-0" not found]',
        observedGeneration: 1,
        phase: 'Failed',
        reason: 'NotFound',
      },
    },
  ],
  kind: 'PortForwardList',
  metadata: {
    continue: '',
    resourceVersion: '682',
  },
};

/** GET /apis/headlamp-operator.dev/v1alpha1/resourcepatches */
export const resourcePatchList = {
  apiVersion: 'headlamp-operator.dev/v1alpha1',
  items: [
    {
      apiVersion: 'headlamp-operator.dev/v1alpha1',
      kind: 'ResourcePatch',
      metadata: {
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration':
            '{"apiVersion":"headlamp-operator.dev/v1alpha1","kind":"ResourcePatch","metadata":{"annotations":{},"name":"rotate-password","namespace":"demo"},"spec":{"cluster":"real","credentials":{"tokenSecretRef":{"name":"sandbox-token"}},"patch":{"stringData":{"password":"n3w-pa55"}},"reapplyInterval":"30s","revertOnDelete":true,"target":{"apiVersion":"v1","kind":"Secret","name":"db"}}}\n',
        },
        creationTimestamp: '2026-12-07T15:45:46Z',
        finalizers: ['headlamp-operator.dev/finalizer'],
        generation: 1,
        managedFields: [
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:metadata': {
                'f:finalizers': {
                  '.': {},
                  'v:"headlamp-operator.dev/finalizer"': {},
                },
              },
            },
            manager: 'Python',
            operation: 'Update',
            time: '2026-12-07T15:45:46Z',
          },
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:status': {
                'f:appliedGeneration': {},
                'f:conditions': {
                  '.': {},
                  'k:{"type":"Ready"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                  'k:{"type":"Reconciling"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                  'k:{"type":"Stalled"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                },
                'f:kopf': {
                  '.': {},
                  'f:last-handled-configuration': {},
                },
                'f:observedGeneration': {},
                'f:phase': {},
                'f:reason': {},
                'f:revert': {
                  'f:complete': {},
                  'f:paths': {},
                },
                'f:target': {
                  '.': {},
                  'f:uid': {},
                },
              },
            },
            manager: 'kopf',
            operation: 'Update',
            subresource: 'status',
            time: '2026-12-07T15:45:46Z',
          },
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:metadata': {
                'f:annotations': {
                  '.': {},
                  'f:kubectl.kubernetes.io/last-applied-configuration': {},
                },
              },
              'f:spec': {
                '.': {},
                'f:cluster': {},
                'f:credentials': {
                  '.': {},
                  'f:tokenSecretRef': {
                    '.': {},
                    'f:key': {},
                    'f:name': {},
                  },
                },
                'f:dryRun': {},
                'f:patch': {
                  '.': {},
                  'f:stringData': {
                    '.': {},
                    'f:password': {},
                  },
                },
                'f:patchType': {},
                'f:reapplyInterval': {},
                'f:revertOnDelete': {},
                'f:target': {
                  '.': {},
                  'f:apiVersion': {},
                  'f:kind': {},
                  'f:name': {},
                },
              },
            },
            manager: 'kubectl-client-side-apply',
            operation: 'Update',
            time: '2026-12-07T15:45:46Z',
          },
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:status': {
                '.': {},
                'f:conditions': {
                  'k:{"type":"Ready"}': {
                    'f:message': {},
                  },
                },
                'f:driftCorrections': {},
                'f:lastAppliedTime': {},
                'f:lastDriftTime': {},
                'f:message': {},
                'f:revert': {
                  '.': {},
                  'f:patch': {},
                  'f:secretName': {},
                  'f:target': {
                    '.': {},
                    'f:apiVersion': {},
                    'f:kind': {},
                    'f:name': {},
                    'f:namespace': {},
                    'f:subresource': {},
                    'f:uid': {},
                  },
                },
                'f:target': {
                  'f:resourceVersion': {},
                },
              },
            },
            manager: 'Python',
            operation: 'Update',
            subresource: 'status',
            time: '2026-12-07T15:48:21Z',
          },
        ],
        name: 'rotate-password',
        namespace: 'demo',
        resourceVersion: '676',
        uid: '5376ffcd-8f15-42a2-8c84-9e5b152ca0ea',
      },
      spec: {
        cluster: 'real',
        credentials: {
          tokenSecretRef: {
            key: 'token',
            name: 'sandbox-token',
          },
        },
        dryRun: false,
        patch: {
          stringData: {
            password: 'n3w-pa55',
          },
        },
        patchType: 'merge',
        reapplyInterval: '30s',
        revertOnDelete: true,
        target: {
          apiVersion: 'v1',
          kind: 'Secret',
          name: 'db',
        },
      },
      status: {
        appliedGeneration: 1,
        conditions: [
          {
            lastTransitionTime: '2026-12-07T15:45:46Z',
            message: 'patched v1 Secret demo/db: nothing changed (resourceVersion 517 as before)',
            observedGeneration: 1,
            reason: 'Applied',
            status: 'True',
            type: 'Ready',
          },
          {
            lastTransitionTime: '2026-12-07T15:45:46Z',
            message: '',
            observedGeneration: 1,
            reason: 'Done',
            status: 'False',
            type: 'Reconciling',
          },
          {
            lastTransitionTime: '2026-12-07T15:45:46Z',
            message: '',
            observedGeneration: 1,
            reason: 'Healthy',
            status: 'False',
            type: 'Stalled',
          },
        ],
        driftCorrections: 1,
        kopf: {
          'last-handled-configuration':
            '{"spec":{"sha256":"e77f6b124d74f5a45e66956f09bad0600761b6363327ef2f29ddbe4239491883"}}',
        },
        lastAppliedTime: '2026-12-07T15:48:21Z',
        lastDriftTime: '2026-12-07T15:46:20Z',
        message: 'patched v1 Secret demo/db: nothing changed (resourceVersion 517 as before)',
        observedGeneration: 1,
        phase: 'Applied',
        reason: 'Applied',
        revert: {
          complete: true,
          patch: 'sha256:e07c71430bc190d3406782861f47bd1fd078676a01dab56df65ce673578fc93d',
          paths: [
            {
              applied: 'sha256:52874a4a157df06bf8537a21a4a553e8058ea8ef4d302f3c4a99fcf146f0773c',
              path: '/data/password',
            },
          ],
          secretName: 'rotate-password-revert-tfqq5',
          target: {
            apiVersion: 'v1',
            kind: 'Secret',
            name: 'db',
            namespace: 'demo',
            subresource: '',
            uid: '412e1da0-91a7-498e-b566-bfeb997688d2',
          },
        },
        target: {
          resourceVersion: '517',
          uid: '412e1da0-91a7-498e-b566-bfeb997688d2',
        },
      },
    },
    {
      apiVersion: 'headlamp-operator.dev/v1alpha1',
      kind: 'ResourcePatch',
      metadata: {
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration':
            '{"apiVersion":"headlamp-operator.dev/v1alpha1","kind":"ResourcePatch","metadata":{"annotations":{},"name":"web-load-test","namespace":"demo"},"spec":{"cluster":"real","credentials":{"tokenSecretRef":{"name":"sandbox-token"}},"patch":{"metadata":{"labels":{"example.com/load-test":"spring-sale"}},"spec":{"replicas":3}},"patchType":"merge","revertOnDelete":true,"target":{"apiVersion":"apps/v1","kind":"Deployment","name":"web","namespace":"shop"}}}\n',
        },
        creationTimestamp: '2026-12-07T15:45:45Z',
        finalizers: ['headlamp-operator.dev/finalizer'],
        generation: 1,
        managedFields: [
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:metadata': {
                'f:finalizers': {
                  '.': {},
                  'v:"headlamp-operator.dev/finalizer"': {},
                },
              },
            },
            manager: 'Python',
            operation: 'Update',
            time: '2026-12-07T15:45:45Z',
          },
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:status': {
                '.': {},
                'f:revert': {
                  '.': {},
                  'f:patch': {},
                  'f:target': {
                    '.': {},
                    'f:apiVersion': {},
                    'f:kind': {},
                    'f:name': {},
                    'f:namespace': {},
                    'f:subresource': {},
                    'f:uid': {},
                  },
                },
              },
            },
            manager: 'Python',
            operation: 'Update',
            subresource: 'status',
            time: '2026-12-07T15:45:45Z',
          },
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:status': {
                'f:appliedGeneration': {},
                'f:conditions': {
                  '.': {},
                  'k:{"type":"Ready"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                  'k:{"type":"Reconciling"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                  'k:{"type":"Stalled"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                },
                'f:kopf': {
                  '.': {},
                  'f:last-handled-configuration': {},
                },
                'f:lastAppliedTime': {},
                'f:message': {},
                'f:observedGeneration': {},
                'f:phase': {},
                'f:reason': {},
                'f:revert': {
                  'f:complete': {},
                  'f:paths': {},
                },
                'f:target': {
                  '.': {},
                  'f:resourceVersion': {},
                  'f:uid': {},
                },
              },
            },
            manager: 'kopf',
            operation: 'Update',
            subresource: 'status',
            time: '2026-12-07T15:45:45Z',
          },
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:metadata': {
                'f:annotations': {
                  '.': {},
                  'f:kubectl.kubernetes.io/last-applied-configuration': {},
                },
              },
              'f:spec': {
                '.': {},
                'f:cluster': {},
                'f:credentials': {
                  '.': {},
                  'f:tokenSecretRef': {
                    '.': {},
                    'f:key': {},
                    'f:name': {},
                  },
                },
                'f:dryRun': {},
                'f:patch': {
                  '.': {},
                  'f:metadata': {
                    '.': {},
                    'f:labels': {
                      '.': {},
                      'f:example.com/load-test': {},
                    },
                  },
                  'f:spec': {
                    '.': {},
                    'f:replicas': {},
                  },
                },
                'f:patchType': {},
                'f:revertOnDelete': {},
                'f:target': {
                  '.': {},
                  'f:apiVersion': {},
                  'f:kind': {},
                  'f:name': {},
                  'f:namespace': {},
                },
              },
            },
            manager: 'kubectl-client-side-apply',
            operation: 'Update',
            time: '2026-12-07T15:45:45Z',
          },
        ],
        name: 'web-load-test',
        namespace: 'demo',
        resourceVersion: '448',
        uid: '09e128cc-9c4d-46e0-a40f-8f077d1f1916',
      },
      spec: {
        cluster: 'real',
        credentials: {
          tokenSecretRef: {
            key: 'token',
            name: 'sandbox-token',
          },
        },
        dryRun: false,
        patch: {
          metadata: {
            labels: {
              'example.com/load-test': 'spring-sale',
            },
          },
          spec: {
            replicas: 3,
          },
        },
        patchType: 'merge',
        revertOnDelete: true,
        target: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'web',
          namespace: 'shop',
        },
      },
      status: {
        appliedGeneration: 1,
        conditions: [
          {
            lastTransitionTime: '2026-12-07T15:45:45Z',
            message: 'patched apps/v1 Deployment shop/web',
            observedGeneration: 1,
            reason: 'Applied',
            status: 'True',
            type: 'Ready',
          },
          {
            lastTransitionTime: '2026-12-07T15:45:45Z',
            message: '',
            observedGeneration: 1,
            reason: 'Done',
            status: 'False',
            type: 'Reconciling',
          },
          {
            lastTransitionTime: '2026-12-07T15:45:45Z',
            message: '',
            observedGeneration: 1,
            reason: 'Healthy',
            status: 'False',
            type: 'Stalled',
          },
        ],
        kopf: {
          'last-handled-configuration':
            '{"spec":{"sha256":"c04312fabdf3460f933ee179903d335e43ede4d086e8d2f81b903be7550972a8"}}',
        },
        lastAppliedTime: '2026-12-07T15:45:45Z',
        message: 'patched apps/v1 Deployment shop/web',
        observedGeneration: 1,
        phase: 'Applied',
        reason: 'Applied',
        revert: {
          complete: true,
          patch: 'sha256:879f38feda0f808c5666d544dcb631ad4679cce36a076ed4506e1464a8424ec8',
          paths: [
            {
              applied: 'sha256:c9f2b3433d91d24e5afc3c7f64bc80ede7be8da0b9e8cfc4a998fe7c8334879b',
              path: '/metadata/labels/example.com~1load-test',
            },
            {
              applied: 'sha256:4e07408562bedb8b60ce05c1decfe3ad16b72230967de01f640b7e4729b49fce',
              before: '3',
              path: '/spec/replicas',
            },
          ],
          target: {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: 'web',
            namespace: 'shop',
            subresource: '',
            uid: '8b5aad78-df5a-46f0-aa2b-a43b80e225dc',
          },
        },
        target: {
          resourceVersion: '447',
          uid: '8b5aad78-df5a-46f0-aa2b-a43b80e225dc',
        },
      },
    },
    {
      apiVersion: 'headlamp-operator.dev/v1alpha1',
      kind: 'ResourcePatch',
      metadata: {
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration':
            '{"apiVersion":"headlamp-operator.dev/v1alpha1","kind":"ResourcePatch","metadata":{"annotations":{},"name":"web-owner-annotation","namespace":"demo"},"spec":{"cluster":"real","credentials":{"tokenSecretRef":{"name":"sandbox-token"}},"patch":{"metadata":{"annotations":{"example.com/owner":"team-shop"}}},"reapplyInterval":"30s","target":{"apiVersion":"apps/v1","kind":"Deployment","name":"web","namespace":"shop"}}}\n',
        },
        creationTimestamp: '2026-12-07T15:45:46Z',
        generation: 1,
        managedFields: [
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:status': {
                '.': {},
                'f:appliedGeneration': {},
                'f:conditions': {
                  '.': {},
                  'k:{"type":"Ready"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                  'k:{"type":"Reconciling"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                  'k:{"type":"Stalled"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                },
                'f:kopf': {
                  '.': {},
                  'f:last-handled-configuration': {},
                },
                'f:observedGeneration': {},
                'f:phase': {},
                'f:reason': {},
                'f:target': {
                  '.': {},
                  'f:uid': {},
                },
              },
            },
            manager: 'kopf',
            operation: 'Update',
            subresource: 'status',
            time: '2026-12-07T15:45:46Z',
          },
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:metadata': {
                'f:annotations': {
                  '.': {},
                  'f:kubectl.kubernetes.io/last-applied-configuration': {},
                },
              },
              'f:spec': {
                '.': {},
                'f:cluster': {},
                'f:credentials': {
                  '.': {},
                  'f:tokenSecretRef': {
                    '.': {},
                    'f:key': {},
                    'f:name': {},
                  },
                },
                'f:dryRun': {},
                'f:patch': {
                  '.': {},
                  'f:metadata': {
                    '.': {},
                    'f:annotations': {
                      '.': {},
                      'f:example.com/owner': {},
                    },
                  },
                },
                'f:patchType': {},
                'f:reapplyInterval': {},
                'f:revertOnDelete': {},
                'f:target': {
                  '.': {},
                  'f:apiVersion': {},
                  'f:kind': {},
                  'f:name': {},
                  'f:namespace': {},
                },
              },
            },
            manager: 'kubectl-client-side-apply',
            operation: 'Update',
            time: '2026-12-07T15:45:46Z',
          },
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:status': {
                'f:conditions': {
                  'k:{"type":"Ready"}': {
                    'f:message': {},
                  },
                },
                'f:driftCorrections': {},
                'f:lastAppliedTime': {},
                'f:lastDriftTime': {},
                'f:message': {},
                'f:target': {
                  'f:resourceVersion': {},
                },
              },
            },
            manager: 'Python',
            operation: 'Update',
            subresource: 'status',
            time: '2026-12-07T15:48:21Z',
          },
        ],
        name: 'web-owner-annotation',
        namespace: 'demo',
        resourceVersion: '675',
        uid: 'c00bb8d5-1ef1-460c-bbb0-474e44fddc57',
      },
      spec: {
        cluster: 'real',
        credentials: {
          tokenSecretRef: {
            key: 'token',
            name: 'sandbox-token',
          },
        },
        dryRun: false,
        patch: {
          metadata: {
            annotations: {
              'example.com/owner': 'team-shop',
            },
          },
        },
        patchType: 'merge',
        reapplyInterval: '30s',
        revertOnDelete: false,
        target: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'web',
          namespace: 'shop',
        },
      },
      status: {
        appliedGeneration: 1,
        conditions: [
          {
            lastTransitionTime: '2026-12-07T15:45:46Z',
            message:
              'patched apps/v1 Deployment shop/web: nothing changed (resourceVersion 559 as before)',
            observedGeneration: 1,
            reason: 'Applied',
            status: 'True',
            type: 'Ready',
          },
          {
            lastTransitionTime: '2026-12-07T15:45:46Z',
            message: '',
            observedGeneration: 1,
            reason: 'Done',
            status: 'False',
            type: 'Reconciling',
          },
          {
            lastTransitionTime: '2026-12-07T15:45:46Z',
            message: '',
            observedGeneration: 1,
            reason: 'Healthy',
            status: 'False',
            type: 'Stalled',
          },
        ],
        driftCorrections: 2,
        kopf: {
          'last-handled-configuration':
            '{"spec":{"sha256":"b3e387c76670f4b3c36063aea91a9ce79a8fa4cbce9056e5cbab591bf5e0abbf"}}',
        },
        lastAppliedTime: '2026-12-07T15:48:21Z',
        lastDriftTime: '2026-12-07T15:46:50Z',
        message:
          'patched apps/v1 Deployment shop/web: nothing changed (resourceVersion 559 as before)',
        observedGeneration: 1,
        phase: 'Applied',
        reason: 'Applied',
        target: {
          resourceVersion: '559',
          uid: '8b5aad78-df5a-46f0-aa2b-a43b80e225dc',
        },
      },
    },
    {
      apiVersion: 'headlamp-operator.dev/v1alpha1',
      kind: 'ResourcePatch',
      metadata: {
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration':
            '{"apiVersion":"headlamp-operator.dev/v1alpha1","kind":"ResourcePatch","metadata":{"annotations":{},"name":"web-preview","namespace":"demo"},"spec":{"cluster":"real","credentials":{"tokenSecretRef":{"name":"sandbox-token"}},"dryRun":true,"patch":{"metadata":{"labels":{"tier":"frontend"}},"spec":{"replicas":5}},"target":{"apiVersion":"apps/v1","kind":"Deployment","name":"web","namespace":"shop"}}}\n',
        },
        creationTimestamp: '2026-12-07T15:45:45Z',
        generation: 1,
        managedFields: [
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:status': {
                '.': {},
                'f:conditions': {
                  '.': {},
                  'k:{"type":"Ready"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                  'k:{"type":"Reconciling"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                  'k:{"type":"Stalled"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                },
                'f:kopf': {
                  '.': {},
                  'f:last-handled-configuration': {},
                },
                'f:message': {},
                'f:observedGeneration': {},
                'f:phase': {},
                'f:preview': {},
                'f:reason': {},
              },
            },
            manager: 'kopf',
            operation: 'Update',
            subresource: 'status',
            time: '2026-12-07T15:45:45Z',
          },
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:metadata': {
                'f:annotations': {
                  '.': {},
                  'f:kubectl.kubernetes.io/last-applied-configuration': {},
                },
              },
              'f:spec': {
                '.': {},
                'f:cluster': {},
                'f:credentials': {
                  '.': {},
                  'f:tokenSecretRef': {
                    '.': {},
                    'f:key': {},
                    'f:name': {},
                  },
                },
                'f:dryRun': {},
                'f:patch': {
                  '.': {},
                  'f:metadata': {
                    '.': {},
                    'f:labels': {
                      '.': {},
                      'f:tier': {},
                    },
                  },
                  'f:spec': {
                    '.': {},
                    'f:replicas': {},
                  },
                },
                'f:patchType': {},
                'f:revertOnDelete': {},
                'f:target': {
                  '.': {},
                  'f:apiVersion': {},
                  'f:kind': {},
                  'f:name': {},
                  'f:namespace': {},
                },
              },
            },
            manager: 'kubectl-client-side-apply',
            operation: 'Update',
            time: '2026-12-07T15:45:45Z',
          },
        ],
        name: 'web-preview',
        namespace: 'demo',
        resourceVersion: '443',
        uid: 'd116fd27-3faa-4c61-8519-9118b0051ff8',
      },
      spec: {
        cluster: 'real',
        credentials: {
          tokenSecretRef: {
            key: 'token',
            name: 'sandbox-token',
          },
        },
        dryRun: true,
        patch: {
          metadata: {
            labels: {
              tier: 'frontend',
            },
          },
          spec: {
            replicas: 5,
          },
        },
        patchType: 'merge',
        revertOnDelete: false,
        target: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'web',
          namespace: 'shop',
        },
      },
      status: {
        conditions: [
          {
            lastTransitionTime: '2026-12-07T15:45:45Z',
            message:
              'would change 2 fields of apps/v1 Deployment shop/web; set dryRun: false to apply it',
            observedGeneration: 1,
            reason: 'Previewed',
            status: 'True',
            type: 'Ready',
          },
          {
            lastTransitionTime: '2026-12-07T15:45:45Z',
            message: '',
            observedGeneration: 1,
            reason: 'Done',
            status: 'False',
            type: 'Reconciling',
          },
          {
            lastTransitionTime: '2026-12-07T15:45:45Z',
            message: '',
            observedGeneration: 1,
            reason: 'Healthy',
            status: 'False',
            type: 'Stalled',
          },
        ],
        kopf: {
          'last-handled-configuration':
            '{"spec":{"sha256":"72f8f4427297c1ee2c2360212db86a49f1f837476814ca25ea93b0c5090f3663"}}',
        },
        message:
          'would change 2 fields of apps/v1 Deployment shop/web; set dryRun: false to apply it',
        observedGeneration: 1,
        phase: 'Previewed',
        preview: [
          {
            after: '"frontend"',
            path: '/metadata/labels/tier',
          },
          {
            after: '5',
            before: '3',
            path: '/spec/replicas',
          },
        ],
        reason: 'Previewed',
      },
    },
    {
      apiVersion: 'headlamp-operator.dev/v1alpha1',
      kind: 'ResourcePatch',
      metadata: {
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration':
            '{"apiVersion":"headlamp-operator.dev/v1alpha1","kind":"ResourcePatch","metadata":{"annotations":{},"name":"web-replicas-invalid","namespace":"demo"},"spec":{"cluster":"real","credentials":{"tokenSecretRef":{"name":"sandbox-token"}},"patch":{"spec":{"replicas":-1}},"target":{"apiVersion":"apps/v1","kind":"Deployment","name":"web","namespace":"shop"}}}\n',
        },
        creationTimestamp: '2026-12-07T15:45:46Z',
        generation: 1,
        managedFields: [
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:status': {
                '.': {},
                'f:conditions': {
                  '.': {},
                  'k:{"type":"Ready"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                  'k:{"type":"Reconciling"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                  'k:{"type":"Stalled"}': {
                    '.': {},
                    'f:lastTransitionTime': {},
                    'f:message': {},
                    'f:observedGeneration': {},
                    'f:reason': {},
                    'f:status': {},
                    'f:type': {},
                  },
                },
                'f:kopf': {
                  '.': {},
                  'f:last-handled-configuration': {},
                },
                'f:message': {},
                'f:observedGeneration': {},
                'f:phase': {},
                'f:reason': {},
              },
            },
            manager: 'kopf',
            operation: 'Update',
            subresource: 'status',
            time: '2026-12-07T15:45:46Z',
          },
          {
            apiVersion: 'headlamp-operator.dev/v1alpha1',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:metadata': {
                'f:annotations': {
                  '.': {},
                  'f:kubectl.kubernetes.io/last-applied-configuration': {},
                },
              },
              'f:spec': {
                '.': {},
                'f:cluster': {},
                'f:credentials': {
                  '.': {},
                  'f:tokenSecretRef': {
                    '.': {},
                    'f:key': {},
                    'f:name': {},
                  },
                },
                'f:dryRun': {},
                'f:patch': {
                  '.': {},
                  'f:spec': {
                    '.': {},
                    'f:replicas': {},
                  },
                },
                'f:patchType': {},
                'f:revertOnDelete': {},
                'f:target': {
                  '.': {},
                  'f:apiVersion': {},
                  'f:kind': {},
                  'f:name': {},
                  'f:namespace': {},
                },
              },
            },
            manager: 'kubectl-client-side-apply',
            operation: 'Update',
            time: '2026-12-07T15:45:46Z',
          },
        ],
        name: 'web-replicas-invalid',
        namespace: 'demo',
        resourceVersion: '459',
        uid: '0dc6f901-3cdd-4da7-a9ac-f953f1252a79',
      },
      spec: {
        cluster: 'real',
        credentials: {
          tokenSecretRef: {
            key: 'token',
            name: 'sandbox-token',
          },
        },
        dryRun: false,
        patch: {
          spec: {
            replicas: -1,
          },
        },
        patchType: 'merge',
        revertOnDelete: false,
        target: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'web',
          namespace: 'shop',
        },
      },
      status: {
        conditions: [
          {
            lastTransitionTime: '2026-12-07T15:45:46Z',
            message:
              'patching Deployment web: Unprocessable Entity - Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0 (cluster real)',
            observedGeneration: 1,
            reason: 'InvalidSpec',
            status: 'False',
            type: 'Ready',
          },
          {
            lastTransitionTime: '2026-12-07T15:45:46Z',
            message: '',
            observedGeneration: 1,
            reason: 'Done',
            status: 'False',
            type: 'Reconciling',
          },
          {
            lastTransitionTime: '2026-12-07T15:45:46Z',
            message:
              'patching Deployment web: Unprocessable Entity - Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0 (cluster real)',
            observedGeneration: 1,
            reason: 'InvalidSpec',
            status: 'True',
            type: 'Stalled',
          },
        ],
        kopf: {
          'last-handled-configuration':
            '{"spec":{"sha256":"f69fb5decfaa4f04ca6da366c6ebe412e255f9ef33c5453ed69b8e6fe6fef598"}}',
        },
        message:
          'patching Deployment web: Unprocessable Entity - Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0 (cluster real)',
        observedGeneration: 1,
        phase: 'Failed',
        reason: 'InvalidSpec',
      },
    },
  ],
  kind: 'ResourcePatchList',
  metadata: {
    continue: '',
    resourceVersion: '682',
  },
};

/** GET /api/v1/namespaces/demo/events */
export const demoEvents = {
  kind: 'EventList',
  apiVersion: 'v1',
  metadata: {
    resourceVersion: '682',
  },
  items: [
    {
      metadata: {
        name: 'headlamp-operator-6fl5s',
        generateName: 'headlamp-operator-',
        namespace: 'demo',
        uid: '9348fcde-6164-4869-b0f3-7fb359b587ff',
        resourceVersion: '657',
        creationTimestamp: '2026-12-07T15:48:09Z',
        managedFields: [
          {
            manager: 'Python',
            operation: 'Update',
            apiVersion: 'v1',
            time: '2026-12-07T15:48:09Z',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:action': {},
              'f:count': {},
              'f:eventTime': {},
              'f:firstTimestamp': {},
              'f:involvedObject': {},
              'f:lastTimestamp': {},
              'f:message': {},
              'f:metadata': {
                'f:generateName': {},
              },
              'f:reason': {},
              'f:reportingComponent': {},
              'f:reportingInstance': {},
              'f:source': {
                'f:component': {},
              },
              'f:type': {},
            },
          },
        ],
      },
      involvedObject: {
        kind: 'PortForward',
        namespace: 'demo',
        name: 'grafana-stopped',
        uid: '34e0ee37-e86b-4f11-bc88-51ccb7c3a56f',
        apiVersion: 'headlamp-operator.dev/v1alpha1',
      },
      reason: 'Started',
      message: 'forwarding localhost:32903 -> monitoring/grafana-0:3000',
      source: {
        component: 'headlamp-operator',
      },
      firstTimestamp: '2026-12-07T15:48:09Z',
      lastTimestamp: '2026-12-07T15:48:09Z',
      count: 1,
      type: 'Normal',
      eventTime: '2026-12-07T15:48:09.182880Z',
      action: 'Reconcile',
      reportingComponent: 'headlamp-operator',
      reportingInstance: 'operator-local',
    },
    {
      metadata: {
        name: 'headlamp-operator-dpkwx',
        generateName: 'headlamp-operator-',
        namespace: 'demo',
        uid: '927d1eb0-3516-4bd6-91eb-31e6ca5318e5',
        resourceVersion: '467',
        creationTimestamp: '2026-12-07T15:45:46Z',
        managedFields: [
          {
            manager: 'Python',
            operation: 'Update',
            apiVersion: 'v1',
            time: '2026-12-07T15:45:46Z',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:action': {},
              'f:count': {},
              'f:eventTime': {},
              'f:firstTimestamp': {},
              'f:involvedObject': {},
              'f:lastTimestamp': {},
              'f:message': {},
              'f:metadata': {
                'f:generateName': {},
              },
              'f:reason': {},
              'f:reportingComponent': {},
              'f:reportingInstance': {},
              'f:source': {
                'f:component': {},
              },
              'f:type': {},
            },
          },
        ],
      },
      involvedObject: {
        kind: 'ResourcePatch',
        namespace: 'demo',
        name: 'web-owner-annotation',
        uid: 'c00bb8d5-1ef1-460c-bbb0-474e44fddc57',
        apiVersion: 'headlamp-operator.dev/v1alpha1',
      },
      reason: 'Applied',
      message: 'patched apps/v1 Deployment shop/web',
      source: {
        component: 'headlamp-operator',
      },
      firstTimestamp: '2026-12-07T15:45:46Z',
      lastTimestamp: '2026-12-07T15:45:46Z',
      count: 1,
      type: 'Normal',
      eventTime: '2026-12-07T15:45:46.016450Z',
      action: 'Reconcile',
      reportingComponent: 'headlamp-operator',
      reportingInstance: 'operator-local',
    },
    {
      metadata: {
        name: 'headlamp-operator-l5g8l',
        generateName: 'headlamp-operator-',
        namespace: 'demo',
        uid: 'a60486ef-0565-454d-bf2e-5d38722f0fca',
        resourceVersion: '468',
        creationTimestamp: '2026-12-07T15:45:46Z',
        managedFields: [
          {
            manager: 'Python',
            operation: 'Update',
            apiVersion: 'v1',
            time: '2026-12-07T15:45:46Z',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:action': {},
              'f:count': {},
              'f:eventTime': {},
              'f:firstTimestamp': {},
              'f:involvedObject': {},
              'f:lastTimestamp': {},
              'f:message': {},
              'f:metadata': {
                'f:generateName': {},
              },
              'f:reason': {},
              'f:reportingComponent': {},
              'f:reportingInstance': {},
              'f:source': {
                'f:component': {},
              },
              'f:type': {},
            },
          },
        ],
      },
      involvedObject: {
        kind: 'ResourcePatch',
        namespace: 'demo',
        name: 'rotate-password',
        uid: '5376ffcd-8f15-42a2-8c84-9e5b152ca0ea',
        apiVersion: 'headlamp-operator.dev/v1alpha1',
      },
      reason: 'Applied',
      message: 'patched v1 Secret demo/db',
      source: {
        component: 'headlamp-operator',
      },
      firstTimestamp: '2026-12-07T15:45:46Z',
      lastTimestamp: '2026-12-07T15:45:46Z',
      count: 1,
      type: 'Normal',
      eventTime: '2026-12-07T15:45:46.069637Z',
      action: 'Reconcile',
      reportingComponent: 'headlamp-operator',
      reportingInstance: 'operator-local',
    },
    {
      metadata: {
        name: 'headlamp-operator-mx724',
        generateName: 'headlamp-operator-',
        namespace: 'demo',
        uid: '8df1d05d-bf29-4045-8fad-fb45b91d0149',
        resourceVersion: '561',
        creationTimestamp: '2026-12-07T15:46:51Z',
        managedFields: [
          {
            manager: 'Python',
            operation: 'Update',
            apiVersion: 'v1',
            time: '2026-12-07T15:46:51Z',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:action': {},
              'f:count': {},
              'f:eventTime': {},
              'f:firstTimestamp': {},
              'f:involvedObject': {},
              'f:lastTimestamp': {},
              'f:message': {},
              'f:metadata': {
                'f:generateName': {},
              },
              'f:reason': {},
              'f:reportingComponent': {},
              'f:reportingInstance': {},
              'f:source': {
                'f:component': {},
              },
              'f:type': {},
            },
          },
        ],
      },
      involvedObject: {
        kind: 'ResourcePatch',
        namespace: 'demo',
        name: 'web-owner-annotation',
        uid: 'c00bb8d5-1ef1-460c-bbb0-474e44fddc57',
        apiVersion: 'headlamp-operator.dev/v1alpha1',
      },
      reason: 'DriftCorrected',
      message:
        're-applied the patch: /metadata/annotations/example.com~1owner had been changed by somebody else (correction 2)',
      source: {
        component: 'headlamp-operator',
      },
      firstTimestamp: '2026-12-07T15:46:50Z',
      lastTimestamp: '2026-12-07T15:46:50Z',
      count: 1,
      type: 'Warning',
      eventTime: '2026-12-07T15:46:50.965873Z',
      action: 'Reconcile',
      reportingComponent: 'headlamp-operator',
      reportingInstance: 'operator-local',
    },
    {
      metadata: {
        name: 'headlamp-operator-n466q',
        generateName: 'headlamp-operator-',
        namespace: 'demo',
        uid: '1acb19b6-3ebc-47e4-aeae-de836836fee1',
        resourceVersion: '464',
        creationTimestamp: '2026-12-07T15:45:46Z',
        managedFields: [
          {
            manager: 'Python',
            operation: 'Update',
            apiVersion: 'v1',
            time: '2026-12-07T15:45:46Z',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:action': {},
              'f:count': {},
              'f:eventTime': {},
              'f:firstTimestamp': {},
              'f:involvedObject': {},
              'f:lastTimestamp': {},
              'f:message': {},
              'f:metadata': {
                'f:generateName': {},
              },
              'f:reason': {},
              'f:reportingComponent': {},
              'f:reportingInstance': {},
              'f:source': {
                'f:component': {},
              },
              'f:type': {},
            },
          },
        ],
      },
      involvedObject: {
        kind: 'PortForward',
        namespace: 'demo',
        name: 'grafana-stopped',
        uid: '34e0ee37-e86b-4f11-bc88-51ccb7c3a56f',
        apiVersion: 'headlamp-operator.dev/v1alpha1',
      },
      reason: 'Stopped',
      message:
        'forward 34e0ee37-e86b-4f11-bc88-51ccb7c3a56f is stopped: Headlamp has none of that id (never started, or forgotten)',
      source: {
        component: 'headlamp-operator',
      },
      firstTimestamp: '2026-12-07T15:45:45Z',
      lastTimestamp: '2026-12-07T15:45:45Z',
      count: 1,
      type: 'Normal',
      eventTime: '2026-12-07T15:45:45.895890Z',
      action: 'Reconcile',
      reportingComponent: 'headlamp-operator',
      reportingInstance: 'operator-local',
    },
    {
      metadata: {
        name: 'headlamp-operator-nkndr',
        generateName: 'headlamp-operator-',
        namespace: 'demo',
        uid: '0fd6853a-901f-4229-9379-f7138006f2d4',
        resourceVersion: '462',
        creationTimestamp: '2026-12-07T15:45:46Z',
        managedFields: [
          {
            manager: 'Python',
            operation: 'Update',
            apiVersion: 'v1',
            time: '2026-12-07T15:45:46Z',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:action': {},
              'f:count': {},
              'f:eventTime': {},
              'f:firstTimestamp': {},
              'f:involvedObject': {},
              'f:lastTimestamp': {},
              'f:message': {},
              'f:metadata': {
                'f:generateName': {},
              },
              'f:reason': {},
              'f:reportingComponent': {},
              'f:reportingInstance': {},
              'f:source': {
                'f:component': {},
              },
              'f:type': {},
            },
          },
        ],
      },
      involvedObject: {
        kind: 'ResourcePatch',
        namespace: 'demo',
        name: 'web-load-test',
        uid: '09e128cc-9c4d-46e0-a40f-8f077d1f1916',
        apiVersion: 'headlamp-operator.dev/v1alpha1',
      },
      reason: 'Applied',
      message: 'patched apps/v1 Deployment shop/web',
      source: {
        component: 'headlamp-operator',
      },
      firstTimestamp: '2026-12-07T15:45:45Z',
      lastTimestamp: '2026-12-07T15:45:45Z',
      count: 1,
      type: 'Normal',
      eventTime: '2026-12-07T15:45:45.982436Z',
      action: 'Reconcile',
      reportingComponent: 'headlamp-operator',
      reportingInstance: 'operator-local',
    },
    {
      metadata: {
        name: 'headlamp-operator-q9dzt',
        generateName: 'headlamp-operator-',
        namespace: 'demo',
        uid: '4a680044-9fdd-461a-b545-f339a4b0a4e0',
        resourceVersion: '668',
        creationTimestamp: '2026-12-07T15:48:15Z',
        managedFields: [
          {
            manager: 'Python',
            operation: 'Update',
            apiVersion: 'v1',
            time: '2026-12-07T15:48:15Z',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:action': {},
              'f:count': {},
              'f:eventTime': {},
              'f:firstTimestamp': {},
              'f:involvedObject': {},
              'f:lastTimestamp': {},
              'f:message': {},
              'f:metadata': {
                'f:generateName': {},
              },
              'f:reason': {},
              'f:reportingComponent': {},
              'f:reportingInstance': {},
              'f:source': {
                'f:component': {},
              },
              'f:type': {},
            },
          },
        ],
      },
      involvedObject: {
        kind: 'PortForward',
        namespace: 'demo',
        name: 'grafana-stopped',
        uid: '34e0ee37-e86b-4f11-bc88-51ccb7c3a56f',
        apiVersion: 'headlamp-operator.dev/v1alpha1',
      },
      reason: 'Stopped',
      message: 'forward 34e0ee37-e86b-4f11-bc88-51ccb7c3a56f is stopped',
      source: {
        component: 'headlamp-operator',
      },
      firstTimestamp: '2026-12-07T15:48:15Z',
      lastTimestamp: '2026-12-07T15:48:15Z',
      count: 1,
      type: 'Normal',
      eventTime: '2026-12-07T15:48:15.200400Z',
      action: 'Reconcile',
      reportingComponent: 'headlamp-operator',
      reportingInstance: 'operator-local',
    },
    {
      metadata: {
        name: 'headlamp-operator-rb564',
        generateName: 'headlamp-operator-',
        namespace: 'demo',
        uid: '2569e46a-7a85-4460-a67f-26cf32acc292',
        resourceVersion: '469',
        creationTimestamp: '2026-12-07T15:45:46Z',
        managedFields: [
          {
            manager: 'Python',
            operation: 'Update',
            apiVersion: 'v1',
            time: '2026-12-07T15:45:46Z',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:action': {},
              'f:count': {},
              'f:eventTime': {},
              'f:firstTimestamp': {},
              'f:involvedObject': {},
              'f:lastTimestamp': {},
              'f:message': {},
              'f:metadata': {
                'f:generateName': {},
              },
              'f:reason': {},
              'f:reportingComponent': {},
              'f:reportingInstance': {},
              'f:source': {
                'f:component': {},
              },
              'f:type': {},
            },
          },
        ],
      },
      involvedObject: {
        kind: 'ResourcePatch',
        namespace: 'demo',
        name: 'web-replicas-invalid',
        uid: '0dc6f901-3cdd-4da7-a9ac-f953f1252a79',
        apiVersion: 'headlamp-operator.dev/v1alpha1',
      },
      reason: 'InvalidSpec',
      message:
        'patching Deployment web: Unprocessable Entity - Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0 (cluster real)',
      source: {
        component: 'headlamp-operator',
      },
      firstTimestamp: '2026-12-07T15:45:46Z',
      lastTimestamp: '2026-12-07T15:45:46Z',
      count: 1,
      type: 'Warning',
      eventTime: '2026-12-07T15:45:46.064511Z',
      action: 'Reconcile',
      reportingComponent: 'headlamp-operator',
      reportingInstance: 'operator-local',
    },
    {
      metadata: {
        name: 'headlamp-operator-shfgn',
        generateName: 'headlamp-operator-',
        namespace: 'demo',
        uid: '1f824739-66b5-4d49-a544-f0a2a0c51394',
        resourceVersion: '520',
        creationTimestamp: '2026-12-07T15:46:21Z',
        managedFields: [
          {
            manager: 'Python',
            operation: 'Update',
            apiVersion: 'v1',
            time: '2026-12-07T15:46:21Z',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:action': {},
              'f:count': {},
              'f:eventTime': {},
              'f:firstTimestamp': {},
              'f:involvedObject': {},
              'f:lastTimestamp': {},
              'f:message': {},
              'f:metadata': {
                'f:generateName': {},
              },
              'f:reason': {},
              'f:reportingComponent': {},
              'f:reportingInstance': {},
              'f:source': {
                'f:component': {},
              },
              'f:type': {},
            },
          },
        ],
      },
      involvedObject: {
        kind: 'ResourcePatch',
        namespace: 'demo',
        name: 'rotate-password',
        uid: '5376ffcd-8f15-42a2-8c84-9e5b152ca0ea',
        apiVersion: 'headlamp-operator.dev/v1alpha1',
      },
      reason: 'DriftCorrected',
      message:
        're-applied the patch: /data/password had been changed by somebody else (correction 1)',
      source: {
        component: 'headlamp-operator',
      },
      firstTimestamp: '2026-12-07T15:46:20Z',
      lastTimestamp: '2026-12-07T15:46:20Z',
      count: 1,
      type: 'Warning',
      eventTime: '2026-12-07T15:46:20.952897Z',
      action: 'Reconcile',
      reportingComponent: 'headlamp-operator',
      reportingInstance: 'operator-local',
    },
    {
      metadata: {
        name: 'headlamp-operator-wbdvp',
        generateName: 'headlamp-operator-',
        namespace: 'demo',
        uid: 'dae61fa7-88bf-4206-98f3-7188e8c870b3',
        resourceVersion: '466',
        creationTimestamp: '2026-12-07T15:45:46Z',
        managedFields: [
          {
            manager: 'Python',
            operation: 'Update',
            apiVersion: 'v1',
            time: '2026-12-07T15:45:46Z',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:action': {},
              'f:count': {},
              'f:eventTime': {},
              'f:firstTimestamp': {},
              'f:involvedObject': {},
              'f:lastTimestamp': {},
              'f:message': {},
              'f:metadata': {
                'f:generateName': {},
              },
              'f:reason': {},
              'f:reportingComponent': {},
              'f:reportingInstance': {},
              'f:source': {
                'f:component': {},
              },
              'f:type': {},
            },
          },
        ],
      },
      involvedObject: {
        kind: 'PortForward',
        namespace: 'demo',
        name: 'grafana',
        uid: '0932cbe6-5145-4ebe-9208-abea36e49b9c',
        apiVersion: 'headlamp-operator.dev/v1alpha1',
      },
      reason: 'Started',
      message: 'forwarding localhost:18080 -> monitoring/grafana-0:3000',
      source: {
        component: 'headlamp-operator',
      },
      firstTimestamp: '2026-12-07T15:45:45Z',
      lastTimestamp: '2026-12-07T15:45:45Z',
      count: 1,
      type: 'Normal',
      eventTime: '2026-12-07T15:45:45.880547Z',
      action: 'Reconcile',
      reportingComponent: 'headlamp-operator',
      reportingInstance: 'operator-local',
    },
    {
      metadata: {
        name: 'headlamp-operator-wfbsl',
        generateName: 'headlamp-operator-',
        namespace: 'demo',
        uid: 'ebc12f71-5ad7-4513-864e-11bdf52108b3',
        resourceVersion: '519',
        creationTimestamp: '2026-12-07T15:46:21Z',
        managedFields: [
          {
            manager: 'Python',
            operation: 'Update',
            apiVersion: 'v1',
            time: '2026-12-07T15:46:21Z',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:action': {},
              'f:count': {},
              'f:eventTime': {},
              'f:firstTimestamp': {},
              'f:involvedObject': {},
              'f:lastTimestamp': {},
              'f:message': {},
              'f:metadata': {
                'f:generateName': {},
              },
              'f:reason': {},
              'f:reportingComponent': {},
              'f:reportingInstance': {},
              'f:source': {
                'f:component': {},
              },
              'f:type': {},
            },
          },
        ],
      },
      involvedObject: {
        kind: 'ResourcePatch',
        namespace: 'demo',
        name: 'web-owner-annotation',
        uid: 'c00bb8d5-1ef1-460c-bbb0-474e44fddc57',
        apiVersion: 'headlamp-operator.dev/v1alpha1',
      },
      reason: 'DriftCorrected',
      message:
        're-applied the patch: /metadata/annotations/example.com~1owner had been changed by somebody else (correction 1)',
      source: {
        component: 'headlamp-operator',
      },
      firstTimestamp: '2026-12-07T15:46:20Z',
      lastTimestamp: '2026-12-07T15:46:20Z',
      count: 1,
      type: 'Warning',
      eventTime: '2026-12-07T15:46:20.944584Z',
      action: 'Reconcile',
      reportingComponent: 'headlamp-operator',
      reportingInstance: 'operator-local',
    },
    {
      metadata: {
        name: 'headlamp-operator-wqw5l',
        generateName: 'headlamp-operator-',
        namespace: 'demo',
        uid: '4abe0c82-67f8-40d5-94ae-4f9897c36dec',
        resourceVersion: '463',
        creationTimestamp: '2026-12-07T15:45:46Z',
        managedFields: [
          {
            manager: 'Python',
            operation: 'Update',
            apiVersion: 'v1',
            time: '2026-12-07T15:45:46Z',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:action': {},
              'f:count': {},
              'f:eventTime': {},
              'f:firstTimestamp': {},
              'f:involvedObject': {},
              'f:lastTimestamp': {},
              'f:message': {},
              'f:metadata': {
                'f:generateName': {},
              },
              'f:reason': {},
              'f:reportingComponent': {},
              'f:reportingInstance': {},
              'f:source': {
                'f:component': {},
              },
              'f:type': {},
            },
          },
        ],
      },
      involvedObject: {
        kind: 'PortForward',
        namespace: 'demo',
        name: 'redis',
        uid: 'd6a1db5f-942f-40f8-80cf-f738ce898b2c',
        apiVersion: 'headlamp-operator.dev/v1alpha1',
      },
      reason: 'NotFound',
      message:
        'pod monitoring/redis-0 does not exist: check spec.pod and spec.namespace [Internal Server Error - error upgrading connection: unable to upgrade connection: pods "redis-0" not found]',
      source: {
        component: 'headlamp-operator',
      },
      firstTimestamp: '2026-12-07T15:45:45Z',
      lastTimestamp: '2026-12-07T15:45:45Z',
      count: 1,
      type: 'Warning',
      eventTime: '2026-12-07T15:45:45.854018Z',
      action: 'Reconcile',
      reportingComponent: 'headlamp-operator',
      reportingInstance: 'operator-local',
    },
    {
      metadata: {
        name: 'headlamp-operator-zr67n',
        generateName: 'headlamp-operator-',
        namespace: 'demo',
        uid: 'c641567b-4bde-4d03-a1cb-fef7baa527d0',
        resourceVersion: '465',
        creationTimestamp: '2026-12-07T15:45:46Z',
        managedFields: [
          {
            manager: 'Python',
            operation: 'Update',
            apiVersion: 'v1',
            time: '2026-12-07T15:45:46Z',
            fieldsType: 'FieldsV1',
            fieldsV1: {
              'f:action': {},
              'f:count': {},
              'f:eventTime': {},
              'f:firstTimestamp': {},
              'f:involvedObject': {},
              'f:lastTimestamp': {},
              'f:message': {},
              'f:metadata': {
                'f:generateName': {},
              },
              'f:reason': {},
              'f:reportingComponent': {},
              'f:reportingInstance': {},
              'f:source': {
                'f:component': {},
              },
              'f:type': {},
            },
          },
        ],
      },
      involvedObject: {
        kind: 'ResourcePatch',
        namespace: 'demo',
        name: 'web-preview',
        uid: 'd116fd27-3faa-4c61-8519-9118b0051ff8',
        apiVersion: 'headlamp-operator.dev/v1alpha1',
      },
      reason: 'Previewed',
      message:
        'would change 2 fields of apps/v1 Deployment shop/web; set dryRun: false to apply it',
      source: {
        component: 'headlamp-operator',
      },
      firstTimestamp: '2026-12-07T15:45:45Z',
      lastTimestamp: '2026-12-07T15:45:45Z',
      count: 1,
      type: 'Normal',
      eventTime: '2026-12-07T15:45:45.939474Z',
      action: 'Reconcile',
      reportingComponent: 'headlamp-operator',
      reportingInstance: 'operator-local',
    },
  ],
};

/** GET /clusters/real/portforward/list of Headlamp's backend (the emulator, v0.45.0's answer shape). */
export const headlampPortForwards = [
  {
    id: 'd6a1db5f-942f-40f8-80cf-f738ce898b2c',
    pod: 'redis-0',
    service: '',
    serviceNamespace: '',
    namespace: 'monitoring',
    cluster: 'real',
    port: '46557',
    targetPort: '6379',
    status: 'Stopped',
    error: 'error upgrading connection: unable to upgrade connection: pods "redis-0" not found',
  },
  {
    id: '0932cbe6-5145-4ebe-9208-abea36e49b9c',
    pod: 'grafana-0',
    service: 'grafana',
    serviceNamespace: 'monitoring',
    namespace: 'monitoring',
    cluster: 'real',
    port: '18080',
    targetPort: '3000',
    status: 'Running',
    error: '',
  },
  {
    id: '34e0ee37-e86b-4f11-bc88-51ccb7c3a56f',
    pod: 'grafana-0',
    service: '',
    serviceNamespace: '',
    namespace: 'monitoring',
    cluster: 'real',
    port: '32903',
    targetPort: '3000',
    status: 'Stopped',
    error: 'Port forward stopped.',
  },
];

/**
 * POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews as ServiceAccount demo/reader (bound to the
 * `view` ClusterRole and get/list/watch of the two CRDs), asking to patch PortForward demo/grafana: an RBAC
 * denial has no reason.
 */
export const deniedReview = {
  kind: 'SelfSubjectAccessReview',
  apiVersion: 'authorization.k8s.io/v1',
  metadata: {
    managedFields: [
      {
        manager: 'curl',
        operation: 'Update',
        apiVersion: 'authorization.k8s.io/v1',
        time: '2026-12-07T15:48:06Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:spec': {
            'f:resourceAttributes': {
              '.': {},
              'f:group': {},
              'f:name': {},
              'f:namespace': {},
              'f:resource': {},
              'f:verb': {},
              'f:version': {},
            },
          },
        },
      },
    ],
  },
  spec: {
    resourceAttributes: {
      namespace: 'demo',
      verb: 'patch',
      group: 'headlamp-operator.dev',
      version: 'v1alpha1',
      resource: 'portforwards',
      name: 'grafana',
    },
  },
  status: {
    allowed: false,
  },
};

/** GET of a resource whose API group the server does not serve (the CRD not installed): 404, plain text. */
export const notServedBody = '404 page not found\n';
