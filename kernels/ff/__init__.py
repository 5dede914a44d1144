"""Prime fields Fq and Fr of BLS12-381 (Montgomery form, 32-bit limbs) and the Fq2/Fq6/Fq12 towers."""
