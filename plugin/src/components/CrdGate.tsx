/*
 * Shows its children (a list) unless the cluster does not serve the resource's CRD: then it says so,
 * and how to install the operator.
 */
import { SectionBox } from '@kinvolk/headlamp-plugin/lib/CommonComponents';
import type { KubeObjectClass } from '@kinvolk/headlamp-plugin/lib/k8s/cluster';
import Typography from '@mui/material/Typography';
import { PropsWithChildren } from 'react';
import { crdMissingText, isCrdMissing } from './crdMissing';

export function CrdMissing({ plural }: { plural: string }) {
  const text = crdMissingText(plural);
  return (
    <SectionBox title={text.title}>
      <Typography>{text.body}</Typography>
      <pre>{text.commands.join('\n')}</pre>
    </SectionBox>
  );
}

export function CrdGate(props: PropsWithChildren<{ resourceClass: KubeObjectClass }>) {
  const { resourceClass, children } = props;
  // The same list request as the table's own (all namespaces), so it is shared rather than repeated.
  const { errors } = resourceClass.useList();
  if (isCrdMissing(errors)) {
    return <CrdMissing plural={resourceClass.apiName} />;
  }
  return <>{children}</>;
}
