import { BeginAuthorization, CheckConsent, CompleteAuthorization, GetInteraction, ListConsents, type ParsedRequestOf, RevokeConsent } from '@latchkey/contracts';
import { Handles } from '@latchkey/messaging';
import { Controller, Inject } from '@nestjs/common';
import { AppsWithAccess } from '../consent/apps-with-access.js';
import { AuthorizationEndpoint } from './authorization-endpoint.js';

/** NATS adapter of the authorization endpoint, login/consent interactions and consent management. */
@Controller()
export class AuthorizationHandler {
  constructor(
    @Inject(AuthorizationEndpoint) private readonly authorization: AuthorizationEndpoint,
    @Inject(AppsWithAccess) private readonly apps: AppsWithAccess,
  ) {}

  @Handles(BeginAuthorization)
  begin(request: ParsedRequestOf<typeof BeginAuthorization>) {
    return this.authorization.begin(request);
  }

  @Handles(GetInteraction)
  getInteraction(request: ParsedRequestOf<typeof GetInteraction>) {
    return this.authorization.get(request);
  }

  @Handles(CompleteAuthorization)
  complete(request: ParsedRequestOf<typeof CompleteAuthorization>) {
    return this.authorization.complete(request);
  }

  @Handles(CheckConsent)
  checkConsent(request: ParsedRequestOf<typeof CheckConsent>) {
    return this.authorization.checkConsent(request);
  }

  /**
   * Every app that holds access for the user: remembered consents and live refresh-token families
   * (the device grant remembers no consent), so that each can be withdrawn with `revoke-consent`.
   */
  @Handles(ListConsents)
  listConsents(request: ParsedRequestOf<typeof ListConsents>) {
    return this.apps.list(request);
  }

  /** The remembered consent, if any, and every refresh-token family of that user at that client. */
  @Handles(RevokeConsent)
  revokeConsent(request: ParsedRequestOf<typeof RevokeConsent>) {
    return this.authorization.revokeConsent(request);
  }
}
