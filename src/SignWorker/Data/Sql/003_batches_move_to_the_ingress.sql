-- Batches belong to the ingress from now on (its batches and batch_items tables): the workers only sign their
-- items and publish each item's result. Applied by the EF Core migration BatchesMoveToTheIngress.
DROP TABLE IF EXISTS signer.batches;
