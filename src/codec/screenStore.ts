/**
 * ScreenStore: the screens shared by the viewers of one capture. A viewer
 * whose last update brought it everything that changed has exactly the
 * captured screen; its native encoder then holds the one copy of that screen
 * kept here (made by the first viewer that needs it, off the JS thread)
 * instead of a copy of its own. Memory for N viewers in sync is one screen,
 * not N. A host makes one store for its capture loop; screens are named by
 * the capture's snapshot generations (ScreenSnapshot.generation).
 */
import { native, NativeScreenStore } from '../native/binding';

export class ScreenStore {
  /** @internal the addon's object, handed to native viewer encoders */
  readonly native: NativeScreenStore = new (native().NativeScreenStore)();

  /** Screens held now (by viewers that have all of them). */
  get count(): number {
    return this.native.count();
  }

  /** Their bytes. */
  get memoryBytes(): number {
    return this.native.memoryBytes();
  }
}
