/*
 * The phase as Headlamp shows a status: a coloured StatusLabel.
 */
import { StatusLabel } from '@kinvolk/headlamp-plugin/lib/CommonComponents';
import { OperatorStatus, phaseLabelStatus, phaseText } from '../resources/common';

export function PhaseLabel({ obj }: { obj: { status?: OperatorStatus } }) {
  const phase = phaseText(obj);
  return <StatusLabel status={phaseLabelStatus(obj.status?.phase)}>{phase}</StatusLabel>;
}
