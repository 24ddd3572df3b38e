set terminal pngcairo size 720,420 noenhanced
set output 'mnist-single.png'
set title 'MNIST, single-level'
set xlabel 'epoch'
set ylabel '-log p(x) (nats, IW)'
set key top right
set grid
plot 'mnist-single.dat' index 0 using 1:2 with linespoints title 'standard', 'mnist-single.dat' index 1 using 1:2 with linespoints title 'iterative'
