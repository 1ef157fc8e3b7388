package systemuser

// The limits the external tests check against.
const MaxJWT = maxJWT
