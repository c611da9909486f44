export const SDK_NAME = 'beacon.javascript';
export const SDK_VERSION = '0.1.0';
