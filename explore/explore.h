/*
 * proccount explore: every interleaving of a small run's steps, each run
 * for real under its schedule, summed up as the final values they reach.
 */
#ifndef PROCCOUNT_EXPLORE_H
#define PROCCOUNT_EXPLORE_H

int	explore_main(int, char **);

#endif
