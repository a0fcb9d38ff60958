/*
 * A header action button that is enabled only when the user's RBAC allows its write, and otherwise
 * disabled, with the reason as its tooltip.
 */
import { Icon } from '@iconify/react';
import { ActionButton } from '@kinvolk/headlamp-plugin/lib/CommonComponents';
import IconButton from '@mui/material/IconButton';
import Tooltip from '@mui/material/Tooltip';
import { AuthRequest, useAuthorization } from './authorization';

export interface AuthorizedActionButtonProps {
  /** The access review of the action's write (authRequestForItem, authRequestForCreate). */
  auth: AuthRequest;
  description: string;
  longDescription?: string;
  icon: string;
  onClick: () => void;
}

export function AuthorizedActionButton(props: AuthorizedActionButtonProps) {
  const { description, longDescription, icon, onClick } = props;
  const auth = useAuthorization(props.auth);

  if (auth.allowed) {
    return (
      <ActionButton
        description={description}
        longDescription={longDescription}
        icon={icon}
        onClick={onClick}
      />
    );
  }
  // A disabled button fires no events, so the tooltip hangs on a span around it (as MUI advises).
  const title = auth.allowed === null ? `${description}: checking permissions…` : auth.reason;
  return (
    <Tooltip title={title}>
      <span data-testid={`disabled-${description}`}>
        <IconButton aria-label={description} disabled size="medium">
          <Icon icon={icon} />
        </IconButton>
      </span>
    </Tooltip>
  );
}
