export { renderSpend } from './spend-table.ts';
