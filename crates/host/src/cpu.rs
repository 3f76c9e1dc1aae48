//! The CPU limit of one invocation, measured with fuel or with epochs ([`CpuMeter`]).

use crate::config::{CpuMeter, FUEL_PER_CPU_MS, FUEL_YIELD_INTERVAL};
use crate::state::StoreState;
use wasmtime::{Store, StoreContextMut, UpdateDeadline};

/// The epoch meter's count for the invocation in progress.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct EpochBudget {
    /// Ticks that found the guest running (one millisecond each).
    pub used_ms: u64,
    /// The invocation's limit, in milliseconds.
    pub limit_ms: u64,
}

/// What a guest stops with when the epoch meter's budget is spent: error 1102, as running out
/// of fuel is.
#[derive(Debug)]
pub(crate) struct CpuLimitExceeded;

impl std::fmt::Display for CpuLimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the invocation used its CPU time")
    }
}

impl std::error::Error for CpuLimitExceeded {}

/// Gives `store` the budget of one invocation: `fuel` units, or under epochs
/// `fuel / FUEL_PER_CPU_MS` milliseconds. Either way the guest yields to the executor
/// regularly (every [`FUEL_YIELD_INTERVAL`] of fuel, or every tick).
pub(crate) fn arm(
    store: &mut Store<StoreState>,
    meter: CpuMeter,
    fuel: u64,
) -> wasmtime::Result<()> {
    match meter {
        CpuMeter::Fuel => {
            store.set_fuel(fuel)?;
            store.fuel_async_yield_interval(Some(FUEL_YIELD_INTERVAL))?;
        }
        CpuMeter::Epoch => {
            store.data_mut().epoch = EpochBudget {
                used_ms: 0,
                limit_ms: fuel / FUEL_PER_CPU_MS,
            };
            store.set_epoch_deadline(1);
            store.epoch_deadline_callback(tick);
        }
    }
    Ok(())
}

/// One tick that found the guest running: counts a millisecond, stops the guest past its
/// limit, else yields to the executor until the next tick.
fn tick(mut cx: StoreContextMut<'_, StoreState>) -> wasmtime::Result<UpdateDeadline> {
    let budget = &mut cx.data_mut().epoch;
    budget.used_ms += 1;
    if budget.used_ms > budget.limit_ms {
        return Err(CpuLimitExceeded.into());
    }
    Ok(UpdateDeadline::Yield(1))
}

/// The fuel the invocation used (armed with `fuel`); 0 under epochs, which count no fuel.
pub(crate) fn fuel_used(store: &Store<StoreState>, meter: CpuMeter, fuel: u64) -> u64 {
    match meter {
        CpuMeter::Fuel => fuel.saturating_sub(store.get_fuel().unwrap_or(0)),
        CpuMeter::Epoch => 0,
    }
}
