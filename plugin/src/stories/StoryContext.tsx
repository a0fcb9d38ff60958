/*
 * What the stories render the plugin's views in: Headlamp's own redux store, a router and the
 * snackbar (what Headlamp's TestContext gives its own stories), and msw handlers that answer as the
 * real API server and Headlamp's backend did (apiserver.ts). Storybook bundles Headlamp's real frontend
 * modules (@kinvolk/headlamp-plugin/lib), so the views render with Headlamp's own components.
 */
import mdiCalendar from '@iconify/icons-mdi/calendar';
import mdiCheckCircle from '@iconify/icons-mdi/check-circle';
import mdiChevronDown from '@iconify/icons-mdi/chevron-down';
import mdiChevronLeft from '@iconify/icons-mdi/chevron-left';
import mdiClose from '@iconify/icons-mdi/close';
import mdiContentCopy from '@iconify/icons-mdi/content-copy';
import mdiDelete from '@iconify/icons-mdi/delete';
import mdiDotsVertical from '@iconify/icons-mdi/dots-vertical';
import mdiFilterVariant from '@iconify/icons-mdi/filter-variant';
import mdiInformationOutline from '@iconify/icons-mdi/information-outline';
import mdiLanConnect from '@iconify/icons-mdi/lan-connect';
import mdiMagnify from '@iconify/icons-mdi/magnify';
import mdiMenuDown from '@iconify/icons-mdi/menu-down';
import mdiMoreVert from '@iconify/icons-mdi/more-vert';
import mdiPencil from '@iconify/icons-mdi/pencil';
import mdiPlay from '@iconify/icons-mdi/play';
import mdiPlayCircle from '@iconify/icons-mdi/play-circle';
import mdiPlusCircle from '@iconify/icons-mdi/plus-circle';
import mdiRefresh from '@iconify/icons-mdi/refresh';
import mdiStop from '@iconify/icons-mdi/stop';
import mdiStopCircleOutline from '@iconify/icons-mdi/stop-circle-outline';
import mdiSwapVertical from '@iconify/icons-mdi/swap-vertical';
import mdiViewColumn from '@iconify/icons-mdi/view-column';
import store from '@kinvolk/headlamp-plugin/lib/redux/stores/store';
import { http, HttpResponse } from 'msw';
import { SnackbarProvider } from 'notistack';
import { PropsWithChildren } from 'react';
import { Provider } from 'react-redux';
import { MemoryRouter } from 'react-router-dom';
import {
  demoEvents,
  headlampPortForwards,
  notServedBody,
  portForwardList,
  resourcePatchList,
} from './apiserver';

export function StoryContext(props: PropsWithChildren<{}>) {
  return (
    <Provider store={store}>
      <SnackbarProvider>
        <MemoryRouter>{props.children}</MemoryRouter>
      </SnackbarProvider>
    </Provider>
  );
}

const GROUP_PATH = '*/apis/headlamp-operator.dev/v1alpha1';

/** A list, and a GET of each of its items, of one of the operator's resources. */
function served(plural: string, list: { items: any[] }) {
  return [
    http.get(`${GROUP_PATH}/${plural}`, () => HttpResponse.json(list)),
    http.get(`${GROUP_PATH}/namespaces/:namespace/${plural}`, ({ params }) =>
      HttpResponse.json({
        ...list,
        items: list.items.filter(i => i.metadata.namespace === params.namespace),
      })
    ),
    http.get(`${GROUP_PATH}/namespaces/:namespace/${plural}/:name`, ({ params }) => {
      const item = list.items.find(
        i => i.metadata.namespace === params.namespace && i.metadata.name === params.name
      );
      return item
        ? HttpResponse.json(item)
        : HttpResponse.json(
            {
              kind: 'Status',
              apiVersion: 'v1',
              metadata: {},
              status: 'Failure',
              message: `${plural}.headlamp-operator.dev "${params.name}" not found`,
              reason: 'NotFound',
              details: { name: params.name, group: 'headlamp-operator.dev', kind: plural },
              code: 404,
            },
            { status: 404 }
          );
    }),
  ];
}

/** What the API server answers when the CRD is not installed: the group is not served at all. */
function notServed(plural: string) {
  return [
    http.get(`${GROUP_PATH}/${plural}`, () => HttpResponse.text(notServedBody, { status: 404 })),
    http.get(`${GROUP_PATH}/namespaces/:namespace/${plural}`, () =>
      HttpResponse.text(notServedBody, { status: 404 })
    ),
  ];
}

/** The Events of the namespace, filtered by the fieldSelector Headlamp sends (involvedObject.*). */
const events = http.get('*/api/v1/namespaces/:namespace/events', ({ request }) => {
  const selector = new URL(request.url).searchParams.get('fieldSelector') || '';
  const wanted = selector
    .split(',')
    .filter(Boolean)
    .map(s => s.split('='));
  const items = demoEvents.items.filter(e =>
    wanted.every(([key, value]) => {
      const field = key.replace(/^involvedObject\./, '');
      return key.startsWith('involvedObject.')
        ? String((e.involvedObject as any)[field]) === value
        : true;
    })
  );
  return HttpResponse.json({ ...demoEvents, items });
});

/**
 * The answer to a SelfSubjectAccessReview: allowed, or (for the verbs in `denied`) what the real API
 * server answered the reader: `allowed: false` and no reason.
 */
function accessReviews(denied: string[]) {
  return http.post(
    '*/apis/authorization.k8s.io/:version/selfsubjectaccessreviews',
    async ({ request }) => {
      const body: any = await request.json();
      const verb = body?.spec?.resourceAttributes?.verb;
      return HttpResponse.json({
        kind: 'SelfSubjectAccessReview',
        apiVersion: 'authorization.k8s.io/v1',
        metadata: {},
        spec: body?.spec,
        status: denied.includes(verb)
          ? { allowed: false }
          : {
              allowed: true,
              reason:
                'RBAC: allowed by ClusterRoleBinding "demo-viewer" of ClusterRole "cluster-admin" to ServiceAccount "viewer/demo"',
            },
      });
    }
  );
}

const namespaces = http.get('*/api/v1/namespaces', () =>
  HttpResponse.json({
    kind: 'NamespaceList',
    apiVersion: 'v1',
    metadata: { resourceVersion: '600' },
    items: ['default', 'demo', 'monitoring', 'shop'].map(name => ({
      metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    })),
  })
);

/** Headlamp's own port-forward list (its backend, not the API server). */
const headlampForwardList = http.get('*/clusters/:cluster/portforward/list', () =>
  HttpResponse.json(headlampPortForwards)
);

/**
 * The icons the views use, as api.iconify.design would send them (Headlamp fetches the icons it does
 * not bundle from there; the stories run offline): from the npm package @iconify/icons-mdi.
 */
const MDI: Record<string, { body: string; width?: number; height?: number }> = {
  calendar: mdiCalendar,
  'check-circle': mdiCheckCircle,
  'chevron-left': mdiChevronLeft,
  'content-copy': mdiContentCopy,
  delete: mdiDelete,
  'information-outline': mdiInformationOutline,
  'more-vert': mdiMoreVert,
  pencil: mdiPencil,
  'play-circle': mdiPlayCircle,
  'plus-circle': mdiPlusCircle,
  refresh: mdiRefresh,
  'stop-circle-outline': mdiStopCircleOutline,
  'swap-vertical': mdiSwapVertical,
  stop: mdiStop,
  play: mdiPlay,
  'lan-connect': mdiLanConnect,
  magnify: mdiMagnify,
  'filter-variant': mdiFilterVariant,
  'view-column': mdiViewColumn,
  'chevron-down': mdiChevronDown,
  'menu-down': mdiMenuDown,
  close: mdiClose,
  'dots-vertical': mdiDotsVertical,
};

const iconify = http.get('https://api.iconify.design/:prefix', ({ request }) => {
  const names = (new URL(request.url).searchParams.get('icons') || '').split(',');
  const icons: Record<string, any> = {};
  for (const name of names) {
    if (MDI[name]) {
      icons[name] = MDI[name];
    }
  }
  return HttpResponse.json({ prefix: 'mdi', icons, width: 24, height: 24 });
});

export interface ClusterOptions {
  /** The CRDs are not installed: their lists answer 404. */
  crdsMissing?: boolean;
  /** The verbs the user's RBAC forbids (patch, delete, create). */
  denied?: string[];
}

/** The msw parameters of a story: the cluster as the real API server and Headlamp's backend answered. */
export function cluster(options: ClusterOptions = {}) {
  const crds = options.crdsMissing
    ? [...notServed('portforwards'), ...notServed('resourcepatches')]
    : [...served('portforwards', portForwardList), ...served('resourcepatches', resourcePatchList)];
  return {
    msw: {
      handlers: {
        // Not the toolchain's base handlers: they answer http://localhost:4466 (a dev backend) only,
        // and api.iconify.design with no icon.
        base: null,
        story: [
          ...crds,
          events,
          accessReviews(options.denied || []),
          namespaces,
          headlampForwardList,
          iconify,
        ],
      },
    },
  };
}

export const inHeadlamp = (Story: any) => (
  <StoryContext>
    <Story />
  </StoryContext>
);
