/*
 * A PortForward's details: status, spec, conditions, Headlamp's own forward, events; and the actions
 * stop/start, retry now, edit and delete (with its deletion policy).
 */
import {
  ConditionsSection,
  DetailsGrid,
  EditButton,
} from '@kinvolk/headlamp-plugin/lib/CommonComponents';
import { useParams } from 'react-router-dom';
import { DeleteAction } from '../actions/DeleteAction';
import { RetryAction } from '../actions/RetryAction';
import { StateAction } from '../actions/StateAction';
import {
  deletionPolicy,
  desiredState,
  forwardedPod,
  localPort,
  PortForward,
  portForwardTarget,
} from '../resources/portForward';
import { HeadlampForwardSection } from './HeadlampForwardSection';
import { statusRows } from './statusRows';

export function portForwardActions(item: PortForward | null) {
  if (!item) {
    return [];
  }
  return [
    { id: 'hpo-state', action: <StateAction item={item} /> },
    { id: 'hpo-retry', action: <RetryAction item={item} /> },
    { id: 'hpo-edit', action: <EditButton item={item} /> },
    { id: 'hpo-delete', action: <DeleteAction item={item} listRouteName="PortForwards" /> },
  ];
}

export function portForwardInfo(item: PortForward) {
  const pf = item.jsonData;
  return [
    ...statusRows(pf),
    { name: 'Cluster', value: pf.spec?.cluster },
    { name: 'Target', value: portForwardTarget(pf) || '-' },
    { name: 'Local port', value: localPort(pf) || '-' },
    { name: 'Pod', value: forwardedPod(pf) || '-' },
    { name: 'Forward id', value: pf.status?.id || '-' },
    { name: 'State', value: desiredState(pf) },
    { name: 'Deletion policy', value: deletionPolicy(pf) },
    { name: 'Last sync', value: pf.status?.lastSyncTime || '-' },
  ];
}

export function PortForwardDetail(props: { namespace?: string; name?: string }) {
  const params = useParams<{ namespace: string; name: string }>();
  const { namespace = params.namespace, name = params.name } = props;
  return (
    <DetailsGrid
      resourceType={PortForward}
      name={name}
      namespace={namespace}
      withEvents
      noDefaultActions
      actions={item => portForwardActions(item as PortForward | null)}
      extraInfo={item => (item ? portForwardInfo(item as PortForward) : null)}
      extraSections={item =>
        item
          ? [
              { id: 'hpo-conditions', section: <ConditionsSection resource={item.jsonData} /> },
              {
                id: 'hpo-headlamp-forward',
                section: (
                  <HeadlampForwardSection
                    pf={item.jsonData}
                    cluster={item.cluster || item.jsonData.spec?.cluster}
                  />
                ),
              },
            ]
          : []
      }
    />
  );
}
