//! The plan: which jobs a run holds and in what order.
//!
//! Jobs are cases × models × repeats, numbered so that consecutive jobs
//! cycle through the models (repeat-major, then case, then model): drift in
//! the gateway over the run hits every model alike. Nothing is materialised:
//! a job's key is computed from its index, so a million-job plan costs no
//! memory. Shards pick a deterministic subset by a hash of the index, so every
//! machine agrees on the partition.

use crate::record::JobKey;

/// `i/n`: run only the jobs of shard `i` (1-based) out of `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("invalid shard `{s}`: use i/n with 1 <= i <= n, e.g. --shard 2/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shape of a plan; job keys are derived from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub cases: u32,
    pub models: u32,
    pub repeats: u32,
    pub shard: Option<Shard>,
}

impl Plan {
    /// Jobs in the full (unsharded) plan.
    pub fn total(&self) -> u64 {
        self.cases as u64 * self.models as u64 * self.repeats as u64
    }

    /// The key of job `job` in the full plan.
    pub fn key(&self, job: u64) -> JobKey {
        let models = self.models as u64;
        let cases = self.cases as u64;
        JobKey {
            job,
            model_index: (job % models) as u32,
            case_index: ((job / models) % cases) as u32,
            repeat: (job / (models * cases)) as u32,
        }
    }

    /// Whether job `job` belongs to this run's shard.
    pub fn in_shard(&self, job: u64) -> bool {
        match self.shard {
            None => true,
            Some(s) => splitmix64(job) % s.count as u64 == (s.index - 1) as u64,
        }
    }

    /// Jobs of this shard, in plan order.
    pub fn jobs(&self) -> impl Iterator<Item = JobKey> + '_ {
        (0..self.total())
            .filter(|j| self.in_shard(*j))
            .map(|j| self.key(j))
    }

    /// Jobs of this shard for one model, in plan order.
    pub fn jobs_for_model(&self, model_index: u32) -> impl Iterator<Item = JobKey> + '_ {
        let models = self.models as u64;
        (model_index as u64..self.total())
            .step_by(models as usize)
            .filter(|j| self.in_shard(*j))
            .map(|j| self.key(j))
    }

    /// Number of jobs in this shard.
    pub fn len(&self) -> u64 {
        match self.shard {
            None => self.total(),
            Some(_) => (0..self.total()).filter(|j| self.in_shard(*j)).count() as u64,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A fixed, well-mixed hash so shard membership is the same everywhere.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests;
