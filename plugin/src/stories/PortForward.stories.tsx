/*
 * The PortForward views with what the real API server returned (apiserver.ts): the list, a Running
 * forward with its entry in Headlamp's forward list, a Failed one, a Stopped one, and the actions
 * disabled by RBAC. plugin/browser/stories.browser.mjs opens each in Chromium.
 */
import { Meta, StoryFn } from '@storybook/react';
import { PortForwardDetail } from '../components/PortForwardDetail';
import { PortForwardList } from '../components/PortForwardList';
import { cluster, inHeadlamp } from './StoryContext';

export default {
  title: 'PortForward',
  decorators: [inHeadlamp],
  parameters: cluster(),
} as Meta;

export const List: StoryFn = () => <PortForwardList />;

export const Running: StoryFn = () => <PortForwardDetail namespace="demo" name="grafana" />;

export const Failed: StoryFn = () => <PortForwardDetail namespace="demo" name="redis" />;

export const Stopped: StoryFn = () => <PortForwardDetail namespace="demo" name="grafana-stopped" />;

/** A user who may read PortForwards but not patch or delete them (the `view` ClusterRole). */
export const ForbiddenActions: StoryFn = () => (
  <PortForwardDetail namespace="demo" name="grafana" />
);
ForbiddenActions.parameters = cluster({ denied: ['patch', 'delete'] });
