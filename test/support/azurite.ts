// Tests start Azurite with the same starter as `npm start` (src/local/services/azurite.ts).
export { AZURITE_ACCOUNT, AZURITE_KEY, azuriteConnectionString, startAzurite, type Azurite, type AzuriteOptions } from '../../src/local/services/azurite.ts';
