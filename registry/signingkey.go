package registry

// SigningKey returns the approver's listed key that made an approval's
// signature, after checking the signature over the entry's own payload.
// The change rules use it to require keys that are valid at the check time.
func (kr *Keyring) SigningKey(registryName, subject string, a Approval) (*ApproverKey, error) {
	return kr.verify(registryName, subject, a)
}
