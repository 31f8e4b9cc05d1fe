//! The HMAC signatures behind tokens, installed as jsonwebtoken's crypto
//! provider.
//!
//! jsonwebtoken's own providers bring RSA, ECDSA and EdDSA (about thirty
//! crates) or aws-lc (a C build); tokens here are only ever HMAC, so the
//! provider is the three HMAC algorithms over RustCrypto's `hmac` and
//! `sha2`, which a default app compiles anyway. Any other algorithm is an
//! invalid algorithm, which a token check reports as a refused token.

use std::sync::Once;

use hmac::{Hmac, Mac};
use jsonwebtoken::Algorithm;
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::signature::{self, Signer, Verifier};
use sha2::{Sha256, Sha384, Sha512};
use subtle::ConstantTimeEq;

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: |alg, key| Ok(Box::new(Hs::new(*alg, key.as_bytes())?)),
    verifier_factory: |alg, key| Ok(Box::new(Hs::new(*alg, key.try_get_as_bytes()?)?)),
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes [`PROVIDER`] the process's provider, once; a provider installed
/// before (by a test or another crate) is kept.
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = PROVIDER.install_default();
    });
}

/// One HMAC key for one algorithm: it signs and verifies.
struct Hs {
    alg: Algorithm,
    key: Vec<u8>,
}

impl Hs {
    fn new(alg: Algorithm, key: &[u8]) -> Result<Self, Error> {
        match alg {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => Ok(Self {
                alg,
                key: key.to_vec(),
            }),
            _ => Err(ErrorKind::InvalidAlgorithm.into()),
        }
    }

    fn mac(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        fn tag<M: Mac + hmac::digest::KeyInit>(
            key: &[u8],
            msg: &[u8],
        ) -> Result<Vec<u8>, signature::Error> {
            let mut mac = <M as Mac>::new_from_slice(key).map_err(signature::Error::from_source)?;
            mac.update(msg);
            Ok(mac.finalize().into_bytes().to_vec())
        }
        match self.alg {
            Algorithm::HS384 => tag::<Hmac<Sha384>>(&self.key, msg),
            Algorithm::HS512 => tag::<Hmac<Sha512>>(&self.key, msg),
            _ => tag::<Hmac<Sha256>>(&self.key, msg),
        }
    }
}

impl Signer<Vec<u8>> for Hs {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        self.mac(msg)
    }
}

impl Verifier<Vec<u8>> for Hs {
    fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        // Constant time, as the `hmac` crate's own `verify_slice` is.
        if bool::from(self.mac(msg)?.ct_eq(signature)) {
            Ok(())
        } else {
            Err(signature::Error::new())
        }
    }
}

impl JwtSigner for Hs {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
}

impl JwtVerifier for Hs {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};

    #[test]
    fn signs_and_verifies_each_hmac_algorithm_and_refuses_others() {
        install();
        let key = [3u8; 32];
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let token = jsonwebtoken::encode(
                &Header::new(alg),
                &serde_json::json!({"sub": "1", "exp": 4_000_000_000u64}),
                &EncodingKey::from_secret(&key),
            )
            .unwrap();
            let mut validation = Validation::new(alg);
            validation.validate_aud = false;
            let decoded = jsonwebtoken::decode::<serde_json::Value>(
                &token,
                &DecodingKey::from_secret(&key),
                &validation,
            );
            assert!(decoded.is_ok(), "{alg:?}: {decoded:?}");
            let wrong = jsonwebtoken::decode::<serde_json::Value>(
                &token,
                &DecodingKey::from_secret(&[4u8; 32]),
                &validation,
            );
            assert!(wrong.is_err(), "{alg:?} accepted a wrong key");
        }
        assert!(Hs::new(Algorithm::RS256, &key).is_err());
    }

    #[test]
    fn a_known_hs256_vector_matches() {
        // RFC 4231 test case 2.
        let hs = Hs::new(Algorithm::HS256, b"Jefe").unwrap();
        let tag = hs.mac(b"what do ya want for nothing?").unwrap();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
