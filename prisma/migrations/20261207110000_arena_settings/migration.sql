-- What voters may do and see: publication of live prompts and of bank answers in rotation,
-- limits on live generation. One row: the defaults hold until an admin saves.
CREATE TABLE "arena_settings" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "publishLivePrompts" BOOLEAN NOT NULL DEFAULT false,
    "publishAnswersInRotation" BOOLEAN NOT NULL DEFAULT false,
    "liveBattlesPerVoter" INTEGER NOT NULL DEFAULT 20,
    "liveBattlesPerIp" INTEGER NOT NULL DEFAULT 60,
    "turnsPerVoter" INTEGER NOT NULL DEFAULT 60,
    "turnsPerIp" INTEGER NOT NULL DEFAULT 180,
    "limitWindowS" INTEGER NOT NULL DEFAULT 3600,
    "signedInFactor" INTEGER NOT NULL DEFAULT 3,
    "liveInFlightPerModel" INTEGER NOT NULL DEFAULT 16,
    "turnMaxChars" INTEGER NOT NULL DEFAULT 4000,
    "conversationMaxChars" INTEGER NOT NULL DEFAULT 16000,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "arena_settings_pkey" PRIMARY KEY ("id")
);
