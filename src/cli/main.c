#include <stdio.h>
int main(void) { puts("iae"); return 0; }
