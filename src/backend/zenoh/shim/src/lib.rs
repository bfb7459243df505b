//! agora's C ABI over the zenoh crate (see agz.h beside this crate for the contract).
//!
//! Everything is synchronous: each call resolves Zenoh's builder with `.wait()` on the
//! caller's thread, and Zenoh runs its own threads for the network. Received payloads
//! reach C through a callback called on those threads. Every entry point catches
//! panics, so that no unwinding crosses into C, and reports failures as text (Zenoh's own
//! message) in the caller's buffer.
#![allow(non_camel_case_types)]

use std::any::Any;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::{Arc, Mutex, MutexGuard};

use zenoh::pubsub::{Publisher, Subscriber};
use zenoh::qos::CongestionControl;
use zenoh::sample::Locality;
use zenoh::{Config, Session, Wait};

/// agz_publisher's flag: a put waits while the transmit queue is full instead of
/// dropping the payload (Zenoh's CongestionControl::Block).
pub const AGZ_PUB_BLOCK: c_int = 1;
/// agz_publisher's flag: puts reach other sessions only, never this session's own
/// subscriptions (Zenoh's Locality::Remote).
pub const AGZ_PUB_REMOTE: c_int = 2;

/// Called with each received payload; `data` is valid only during the call.
pub type agz_recv_cb = extern "C" fn(user: *mut c_void, data: *const u8, len: usize);

/// The caller's pointer, handed back to the callback. Sending it to Zenoh's threads is
/// the caller's contract (agz.h says the callback runs there).
struct UserPtr(*mut c_void);
unsafe impl Send for UserPtr {}
unsafe impl Sync for UserPtr {}

/// What stands between Zenoh's threads and the C callback. The callback runs with the
/// lock held, so calls never overlap, and shutting the gate (taking the lock) waits for
/// a call in progress: after shut() the callback is never called again.
struct Gate {
    open: Mutex<bool>,
    cb: agz_recv_cb,
    user: UserPtr,
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, bool> {
        // The lock guards only a flag, so a poisoned lock still holds a valid one.
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn deliver(&self, data: &[u8]) {
        let open = self.lock();
        if *open {
            (self.cb)(self.user.0, data.as_ptr(), data.len());
        }
    }

    fn shut(&self) {
        *self.lock() = false;
    }
}

/// A publisher shared by its C handle and its session: whichever of agz_publisher_free
/// and agz_close comes first undeclares it (Zenoh leaks a publisher dropped after
/// its session closed), leaving None.
type PublisherSlot = Arc<Mutex<Option<Publisher<'static>>>>;

fn lock_slot(slot: &PublisherSlot) -> MutexGuard<'_, Option<Publisher<'static>>> {
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct agz_session {
    session: Session,
    subscribers: Mutex<Vec<(Subscriber<()>, Arc<Gate>)>>,
    publishers: Mutex<Vec<PublisherSlot>>,
}

pub struct agz_publisher {
    slot: PublisherSlot,
}

/// Copy msg into the caller's buffer, NUL-terminated, truncated to fit.
fn set_err(err: *mut c_char, errlen: usize, msg: &str) {
    if err.is_null() || errlen == 0 {
        return;
    }
    let n = msg.len().min(errlen - 1);
    // SAFETY: the caller gave errlen writable bytes at err.
    unsafe {
        ptr::copy_nonoverlapping(msg.as_ptr(), err as *mut u8, n);
        *err.add(n) = 0;
    }
}

fn panic_text(p: &(dyn Any + Send)) -> &str {
    if let Some(s) = p.downcast_ref::<&str>() {
        s
    } else if let Some(s) = p.downcast_ref::<String>() {
        s
    } else {
        "unknown panic"
    }
}

/// Run one entry point's body: its error or panic becomes text in err, and `failed`
/// is returned instead.
fn guarded<T>(
    err: *mut c_char,
    errlen: usize,
    failed: T,
    body: impl FnOnce() -> Result<T, String>,
) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v,
        Ok(Err(msg)) => {
            set_err(err, errlen, &msg);
            failed
        }
        Err(p) => {
            set_err(
                err,
                errlen,
                &format!("zenoh shim: panic: {}", panic_text(p.as_ref())),
            );
            failed
        }
    }
}

/// A C string argument as &str, or an error naming it.
fn c_str<'a>(s: *const c_char, what: &str) -> Result<&'a str, String> {
    if s.is_null() {
        return Err(format!("zenoh shim: {what} is NULL"));
    }
    // SAFETY: the caller passes a NUL-terminated string that outlives the call.
    unsafe { CStr::from_ptr(s) }
        .to_str()
        .map_err(|_| format!("zenoh shim: {what} is not UTF-8"))
}

/// Take back a handle that C frees (NULL: nothing) and tear it down with `teardown`,
/// never letting a panic cross the C ABI.
fn free_handle<T>(handle: *mut T, teardown: impl FnOnce(Box<T>)) {
    if handle.is_null() {
        return;
    }
    // SAFETY: every handle given to C came from Box::into_raw here, and C frees it once.
    let boxed = unsafe { Box::from_raw(handle) };
    let _ = catch_unwind(AssertUnwindSafe(move || teardown(boxed)));
}

fn session_ref<'a>(s: *mut agz_session) -> Result<&'a agz_session, String> {
    // SAFETY: a non-NULL s came from agz_open and was not closed (agz.h's contract).
    unsafe { s.as_ref() }.ok_or_else(|| "zenoh shim: session is NULL".to_string())
}

/// Open a session from a Zenoh configuration in JSON5. NULL on failure, with Zenoh's
/// message in err.
#[no_mangle]
pub extern "C" fn agz_open(
    json5: *const c_char,
    err: *mut c_char,
    errlen: usize,
) -> *mut agz_session {
    guarded(err, errlen, ptr::null_mut(), || {
        let text = c_str(json5, "configuration")?;
        let config = Config::from_json5(text).map_err(|e| format!("zenoh configuration: {e}"))?;
        let session = zenoh::open(config)
            .wait()
            .map_err(|e| format!("zenoh open: {e}"))?;
        Ok(Box::into_raw(Box::new(agz_session {
            session,
            subscribers: Mutex::new(Vec::new()),
            publishers: Mutex::new(Vec::new()),
        })))
    })
}

/// Parse a Zenoh configuration in JSON5 without opening a session. 0, or -1 with
/// Zenoh's message in err.
#[no_mangle]
pub extern "C" fn agz_config_check(json5: *const c_char, err: *mut c_char, errlen: usize) -> c_int {
    guarded(err, errlen, -1, || {
        let text = c_str(json5, "configuration")?;
        Config::from_json5(text).map_err(|e| format!("zenoh configuration: {e}"))?;
        Ok(0)
    })
}

/// Subscribe to key: cb(user, data, len) for every payload, until agz_close.
#[no_mangle]
pub extern "C" fn agz_subscribe(
    sess: *mut agz_session,
    key: *const c_char,
    cb: Option<agz_recv_cb>,
    user: *mut c_void,
    err: *mut c_char,
    errlen: usize,
) -> c_int {
    guarded(err, errlen, -1, || {
        let s = session_ref(sess)?;
        let key = c_str(key, "key expression")?;
        let cb = cb.ok_or_else(|| "zenoh shim: callback is NULL".to_string())?;
        let gate = Arc::new(Gate {
            open: Mutex::new(true),
            cb,
            user: UserPtr(user),
        });
        let to_c = Arc::clone(&gate);
        let subscriber = s
            .session
            .declare_subscriber(key.to_owned())
            .callback(move |sample| to_c.deliver(&sample.payload().to_bytes()))
            .wait()
            .map_err(|e| format!("zenoh subscribe to '{key}': {e}"))?;
        s.subscribers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((subscriber, gate));
        Ok(0)
    })
}

/// Declare a publisher on key. NULL on failure.
#[no_mangle]
pub extern "C" fn agz_publisher_new(
    sess: *mut agz_session,
    key: *const c_char,
    flags: c_int,
    err: *mut c_char,
    errlen: usize,
) -> *mut agz_publisher {
    guarded(err, errlen, ptr::null_mut(), || {
        let s = session_ref(sess)?;
        let key = c_str(key, "key expression")?;
        let congestion = if flags & AGZ_PUB_BLOCK != 0 {
            CongestionControl::Block
        } else {
            CongestionControl::Drop
        };
        let destination = if flags & AGZ_PUB_REMOTE != 0 {
            Locality::Remote
        } else {
            Locality::Any
        };
        let publisher = s
            .session
            .declare_publisher(key.to_owned())
            .congestion_control(congestion)
            .allowed_destination(destination)
            .wait()
            .map_err(|e| format!("zenoh publisher on '{key}': {e}"))?;
        let slot: PublisherSlot = Arc::new(Mutex::new(Some(publisher)));
        let mut publishers = s.publishers.lock().unwrap_or_else(|e| e.into_inner());
        publishers.retain(|p| lock_slot(p).is_some());
        publishers.push(Arc::clone(&slot));
        Ok(Box::into_raw(Box::new(agz_publisher { slot })))
    })
}

/// Publish len bytes (copied). 0, or -1 with Zenoh's message.
#[no_mangle]
pub extern "C" fn agz_put(
    publ: *mut agz_publisher,
    data: *const u8,
    len: usize,
    err: *mut c_char,
    errlen: usize,
) -> c_int {
    guarded(err, errlen, -1, || {
        // SAFETY: a non-NULL publ came from agz_publisher_new and was not freed.
        let p =
            unsafe { publ.as_ref() }.ok_or_else(|| "zenoh shim: publisher is NULL".to_string())?;
        let payload = if len == 0 {
            Vec::new()
        } else if data.is_null() {
            return Err("zenoh shim: payload is NULL".to_string());
        } else {
            // SAFETY: the caller gave len readable bytes at data.
            unsafe { std::slice::from_raw_parts(data, len) }.to_vec()
        };
        let publisher = lock_slot(&p.slot);
        let publisher = publisher
            .as_ref()
            .ok_or_else(|| "zenoh put: the session is closed".to_string())?;
        publisher
            .put(payload)
            .wait()
            .map_err(|e| format!("zenoh put: {e}"))?;
        Ok(0)
    })
}

/// 1 if some subscriber matches the publisher's key (Zenoh knows of it), 0 if none, -1
/// on failure.
#[no_mangle]
pub extern "C" fn agz_publisher_matching(
    publ: *mut agz_publisher,
    err: *mut c_char,
    errlen: usize,
) -> c_int {
    guarded(err, errlen, -1, || {
        // SAFETY: as in agz_put.
        let p =
            unsafe { publ.as_ref() }.ok_or_else(|| "zenoh shim: publisher is NULL".to_string())?;
        let publisher = lock_slot(&p.slot);
        let publisher = publisher
            .as_ref()
            .ok_or_else(|| "zenoh matching status: the session is closed".to_string())?;
        let status = publisher
            .matching_status()
            .wait()
            .map_err(|e| format!("zenoh matching status: {e}"))?;
        Ok(status.matching() as c_int)
    })
}

/// Undeclare and free a publisher (NULL: nothing). Before or after agz_close.
#[no_mangle]
pub extern "C" fn agz_publisher_free(publ: *mut agz_publisher) {
    free_handle(publ, |p| {
        if let Some(publisher) = lock_slot(&p.slot).take() {
            let _ = publisher.undeclare().wait();
        }
    });
}

/// How many routers and peers the session has a transport to now. 0, or -1.
#[no_mangle]
pub extern "C" fn agz_connected(
    sess: *mut agz_session,
    routers: *mut usize,
    peers: *mut usize,
    err: *mut c_char,
    errlen: usize,
) -> c_int {
    guarded(err, errlen, -1, || {
        let s = session_ref(sess)?;
        let info = s.session.info();
        let r = info.routers_zid().wait().count();
        let p = info.peers_zid().wait().count();
        // SAFETY: each non-NULL pointer is the caller's writable size_t.
        unsafe {
            if let Some(out) = routers.as_mut() {
                *out = r;
            }
            if let Some(out) = peers.as_mut() {
                *out = p;
            }
        }
        Ok(0)
    })
}

/// The session's Zenoh id as text into buf (NUL-terminated, truncated). 0, or -1.
#[no_mangle]
pub extern "C" fn agz_zid(sess: *mut agz_session, buf: *mut c_char, buflen: usize) -> c_int {
    guarded(ptr::null_mut(), 0, -1, || {
        let s = session_ref(sess)?;
        set_err(buf, buflen, &s.session.info().zid().wait().to_string());
        Ok(0)
    })
}

/// Close the session: no callback runs once this returns, then the subscribers and
/// publishers are undeclared (a publisher handle stays valid until freed; puts on it
/// then fail) and the session closed. NULL: nothing.
#[no_mangle]
pub extern "C" fn agz_close(sess: *mut agz_session) {
    free_handle(sess, |s| {
        let subscribers =
            std::mem::take(&mut *s.subscribers.lock().unwrap_or_else(|e| e.into_inner()));
        for (_, gate) in &subscribers {
            gate.shut();
        }
        for (subscriber, _) in subscribers {
            let _ = subscriber.undeclare().wait();
        }
        let publishers =
            std::mem::take(&mut *s.publishers.lock().unwrap_or_else(|e| e.into_inner()));
        for slot in publishers {
            if let Some(publisher) = lock_slot(&slot).take() {
                let _ = publisher.undeclare().wait();
            }
        }
        let _ = s.session.close().wait();
    });
}

/// Turn on Zenoh's log (on standard output) when RUST_LOG is set, e.g. RUST_LOG=debug.
#[no_mangle]
pub extern "C" fn agz_log_from_env() {
    let _ = catch_unwind(zenoh::try_init_log_from_env);
}
