/** The only IPC channels the renderer may use (allow-list, shared by preload and main). */
export const CALL_CHANNEL = 'mesh:call'
export const EVENT_CHANNEL = 'mesh:event'
export const ALLOWED_INVOKE_CHANNELS: readonly string[] = [CALL_CHANNEL]
export const ALLOWED_EVENT_CHANNELS: readonly string[] = [EVENT_CHANNEL]
