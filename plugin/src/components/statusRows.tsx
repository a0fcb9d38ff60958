/*
 * The status rows both details views show first: phase, reason, message, and whether the operator
 * has seen the current spec.
 */
import type { NameValueTableRow } from '@kinvolk/headlamp-plugin/lib/CommonComponents';
import { isObservedGeneration, OperatorResourceInterface } from '../resources/common';
import { PhaseLabel } from './StatusText';

export function statusRows(obj: OperatorResourceInterface): NameValueTableRow[] {
  const status = obj.status || {};
  return [
    { name: 'Phase', value: <PhaseLabel obj={obj} /> },
    { name: 'Reason', value: status.reason || '-' },
    { name: 'Message', value: status.message || '-' },
    {
      name: 'Observed generation',
      value: isObservedGeneration(obj)
        ? `${status.observedGeneration ?? '-'} (current)`
        : `${status.observedGeneration ?? '-'} (the operator has not seen generation ${
            obj.metadata?.generation
          } yet)`,
    },
  ];
}
