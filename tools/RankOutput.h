//===- RankOutput.h - One error message for a data-parallel job -*- C++ -*-===//
///
/// \file
/// Under mpirun every rank runs the same command on the same files, so most
/// errors (a flag, a .nn file, a missing path) happen on every rank at once
/// and would be printed N times. Ranks other than 0 hold what they write to
/// stderr; a rank that fails waits a moment before printing it and ending
/// the job, so that rank 0, when it failed the same way, has printed its
/// message and ended the job first. An error only one rank sees (a file
/// missing on its machine) is still printed, by that rank, with its rank.
///
//===----------------------------------------------------------------------===//
#pragma once

namespace nn {

/// Holds this process's stderr from now on (ranks other than 0, from the
/// start: most errors come before the ranks join the world).
void holdRankOutput();

/// Writes what was held to stderr; after an error (`failed`), first waits a
/// moment for rank 0 to end the job, and names the rank. Nothing when
/// nothing was held.
void releaseRankOutput(bool failed);

} // namespace nn
