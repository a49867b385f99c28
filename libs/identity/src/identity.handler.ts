import { FindUser, type ParsedRequestOf } from '@latchkey/contracts';
import { Handles } from '@latchkey/messaging';
import { Controller, Inject } from '@nestjs/common';
import { Users } from './users/users.js';

@Controller()
export class IdentityHandler {
  constructor(@Inject(Users) private readonly users: Users) {}

  @Handles(FindUser)
  async findUser(request: ParsedRequestOf<typeof FindUser>) {
    return { user: await this.users.findByUsername(request.tenant, request.username) };
  }
}
