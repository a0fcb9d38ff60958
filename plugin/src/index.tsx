/*
 * headlamp-operator's Headlamp plugin: the PortForwards and ResourcePatches of the current cluster in
 * Headlamp's sidebar, their details and actions, and "Forward declaratively" on Pods and Services.
 * Every request is the user's own, through Headlamp's API proxy: the plugin never talks to the operator.
 */
import {
  registerDetailsViewHeaderAction,
  registerRoute,
  registerSidebarEntry,
} from '@kinvolk/headlamp-plugin/lib';
import { ForwardDeclarativelyAction } from './actions/ForwardDeclarativelyAction';
import { PortForwardDetail } from './components/PortForwardDetail';
import { PortForwardList } from './components/PortForwardList';
import { ResourcePatchDetail } from './components/ResourcePatchDetail';
import { ResourcePatchList } from './components/ResourcePatchList';
import { PORTFORWARD_DETAILS_ROUTE, PORTFORWARD_LIST_ROUTE } from './resources/portForward';
import { RESOURCEPATCH_DETAILS_ROUTE, RESOURCEPATCH_LIST_ROUTE } from './resources/resourcePatch';

const SIDEBAR = 'headlamp-operator';

registerSidebarEntry({
  parent: null,
  name: SIDEBAR,
  label: 'Headlamp Operator',
  url: PORTFORWARD_LIST_ROUTE,
  icon: 'mdi:lan-connect',
});
registerSidebarEntry({
  parent: SIDEBAR,
  name: 'hpo-portforwards',
  label: 'PortForwards',
  url: PORTFORWARD_LIST_ROUTE,
});
registerSidebarEntry({
  parent: SIDEBAR,
  name: 'hpo-resourcepatches',
  label: 'ResourcePatches',
  url: RESOURCEPATCH_LIST_ROUTE,
});

// Route names are what the resource classes' detailsRoute and the delete action's redirect use.
registerRoute({
  path: PORTFORWARD_LIST_ROUTE,
  sidebar: 'hpo-portforwards',
  name: 'PortForwards',
  exact: true,
  component: () => <PortForwardList />,
});
registerRoute({
  path: PORTFORWARD_DETAILS_ROUTE,
  sidebar: 'hpo-portforwards',
  name: 'PortForward',
  exact: true,
  component: () => <PortForwardDetail />,
});
registerRoute({
  path: RESOURCEPATCH_LIST_ROUTE,
  sidebar: 'hpo-resourcepatches',
  name: 'ResourcePatches',
  exact: true,
  component: () => <ResourcePatchList />,
});
registerRoute({
  path: RESOURCEPATCH_DETAILS_ROUTE,
  sidebar: 'hpo-resourcepatches',
  name: 'ResourcePatch',
  exact: true,
  component: () => <ResourcePatchDetail />,
});

// On every details page; it renders only on Pods and Services.
registerDetailsViewHeaderAction(ForwardDeclarativelyAction);
