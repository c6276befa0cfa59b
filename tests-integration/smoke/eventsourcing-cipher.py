"""AES-GCM round trip, with only eventsourcing-cipher installed."""

from eventsourcing.cipher import AESCipher

key = AESCipher.create_key(num_bytes=32)
cipher = AESCipher(cipher_key=key)
ciphertext = cipher.encrypt(b"some plain text")
assert b"plain" not in ciphertext
assert cipher.decrypt(ciphertext) == b"some plain text"
print("ok: cipher round trip")
