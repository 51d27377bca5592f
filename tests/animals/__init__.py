"""Tests of intake: cases, animals and lots, holds, custody, housing."""
