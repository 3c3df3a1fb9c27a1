-- A password an admin set or the seed generated must be replaced at the next sign-in
ALTER TABLE "users" ADD COLUMN "mustChangePassword" BOOLEAN NOT NULL DEFAULT false;
-- Open sign-up for voters: off unless an admin turns it on
ALTER TABLE "arena_settings" ADD COLUMN "signupOpen" BOOLEAN NOT NULL DEFAULT false;
