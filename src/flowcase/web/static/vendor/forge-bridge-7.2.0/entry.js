// flowcase's selection of @forge/bridge 7.2.0 (bundled with esbuild; see VENDOR.md)
export { invokeRemote } from './node_modules/@forge/bridge/out/invoke-endpoint/invoke-remote.js';
export { getContext } from './node_modules/@forge/bridge/out/view/getContext.js';
export { close } from './node_modules/@forge/bridge/out/view/close.js';
export { showFlag } from './node_modules/@forge/bridge/out/flag/flag.js';
export { Modal } from './node_modules/@forge/bridge/out/modal/modal.js';
